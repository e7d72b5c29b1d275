"""mmfs_plugin.engine."""
