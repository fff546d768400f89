"""Tests of the graphql package."""
