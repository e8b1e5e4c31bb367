"""Toolbox search: theme vocabularies, query reading (stop words, compounds, typos) and ranking."""
