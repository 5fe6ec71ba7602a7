"""medgen-etl: MedGen concepts and their categorized PubMed citations as Parquet snapshots."""

__version__ = "0.1.0"
