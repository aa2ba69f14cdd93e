"""Client systems: their API keys, the embedded checks they make, and the change log they follow."""
