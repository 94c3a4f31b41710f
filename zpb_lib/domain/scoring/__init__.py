"""Audit scoring against the versioned criteria catalogues, certificate decisions under rules kept as
data, explanations and the certificate lifecycle."""
from zpb_lib.domain.scoring.decisions import (AuditScore, Decision, Reason, decide, score_audit, valid_until, years_in_programme)
from zpb_lib.domain.scoring.rules import AwardRule, RuleSet, Rules, load_rules, rules

__all__ = ["AuditScore", "Decision", "Reason", "decide", "score_audit", "valid_until", "years_in_programme",
           "AwardRule", "RuleSet", "Rules", "load_rules", "rules"]
