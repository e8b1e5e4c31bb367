"""The organisation: CLB centres, their locations, and the schools they serve."""
