"""mmfs_plugin.datasets."""
