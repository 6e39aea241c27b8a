"""Study Z evaluation: scoring, baselines, leaderboard, A/B verdict, plots and their file jobs."""
