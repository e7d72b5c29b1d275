"""mmfs_plugin.models."""
