"""The announce stage's engine: a GitHub or GitLab release for each release tag."""
