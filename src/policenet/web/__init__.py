"""HTTP plumbing shared by the hub and node apps: errors, size limits."""
