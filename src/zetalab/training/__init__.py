"""Training of the Study Z GNN variants: full-batch (whole graph per step, all four losses)
and Cluster-GCN mini-batch (induced subgraphs of partition clusters, no RG penalty)."""
