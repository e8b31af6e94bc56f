"""Stripe billing for an agency's plan: Checkout and Billing Portal sessions, the webhook that
keeps `agencies.subscription_status` current, and the guard that answers 402 to a sync request
of an inactive agency (docs/operations.md "Billing")."""
