"""SQLAlchemy 2 async storage: the one place that issues queries."""
