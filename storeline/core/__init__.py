"""The kernel both sides use: settings, database, named SQL, crypto, RLS, migrations, seed."""
