"""The bulk path: MedGen's and PubMed's FTP files instead of E-utilities.

A second runner beside ``pipeline/runner.py``: it reads files the user
downloaded (``medgen-etl download``), parses PubMed XML files in parallel (a
process pool, or Dask), applies update files in order, and publishes the same
tables as ``build``. Stages still meet only here: ``parse`` (a worker: one XML
file to Parquet parts), ``merge`` (which record of each PMID wins), ``runner``.
"""
