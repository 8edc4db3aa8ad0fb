"""Plain service functions of the statistics app: KPIs, import, charts, export, email rendering, headlines."""
