"""The processing stage: ``base`` is the contract the pipeline calls (a pure, synchronous :class:`Processor`),
``live`` the product's processor (triage, then scripts and coupons)."""
