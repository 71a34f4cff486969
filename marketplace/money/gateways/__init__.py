"""The two money ports, taking payments and paying writers: :mod:`.protocol` declares them
(:class:`~.protocol.PaymentGateway`, :class:`~.protocol.PayoutGateway`) and the values they return; one
module per adapter beside it: :mod:`.stripe_gateway` (production; not ``stripe.py``, which would read
as the SDK) and :mod:`.local` (the embedded default, which needs no account and still goes through the
same ledger code: the local checkout completes by a signed webhook event of Stripe's own shape, handled
by the same function as a real Stripe delivery).
"""
