"""Analyses on travel times: access, coverage, siting, referrals, TB continuity, sweeps."""
