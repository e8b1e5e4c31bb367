"""Appointments with CLB workers and requests for a face-to-face meeting."""
