"""mmfs_plugin.evaluation."""
