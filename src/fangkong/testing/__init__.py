"""Mass testing (筛查检测): rounds, pooled tubes, labs, positive-pool follow-up, coverage."""
