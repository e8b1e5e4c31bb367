"""How the platform is doing: which failures are outages (``outage``), and the metrics an
operator reads (``metrics``)."""
