"""The only package that speaks SQL: models, migrations, upserts and queries."""
