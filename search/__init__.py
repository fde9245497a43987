"""The Elasticsearch side: mapping, versioned index and alias, bulk indexer, queries, HTTP API."""
