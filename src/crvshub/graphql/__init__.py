"""graphql feature package: one /graphql schema built from the fields each feature contributes."""
