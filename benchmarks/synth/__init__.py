"""Building blocks of the synthetic SQLAlchemy codebase that `benchmarks/generate.py` writes."""
