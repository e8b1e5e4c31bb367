"""The toolbox library: tools and help sources by theme and audience."""
