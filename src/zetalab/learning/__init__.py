"""Study Z learning: zero data, prime graphs, partitions, features, GNNs, losses, training."""
