"""Search stores: the embedded database store and the Elasticsearch store, behind one interface."""
