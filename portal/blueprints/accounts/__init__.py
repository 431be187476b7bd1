from portal.blueprints.accounts.views import account_bp, bp

__all__ = ["account_bp", "bp"]
