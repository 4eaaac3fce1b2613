"""What tests and benchmarks use, apart from what runs in a user's `pulumi up`."""
