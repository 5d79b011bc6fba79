"""The GraphQL API for partner structures: the schema (``schema``), its HTTP endpoint with
limits and rate budget (``views``), and GraphiQL served from the instance.

Never named ``graphql``: graphql-core owns that import name.
"""
