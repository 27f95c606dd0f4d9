"""The release pull request: the plan on a branch, one pull / merge request for review."""
