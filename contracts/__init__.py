"""Pure library of data rights (Jilin Big Data Regulation Art. 22), chains and licences.

No FastAPI, SQLAlchemy or `market` imports (enforced by contracts/ruff.toml): the service
gathers grants, calls these functions, and stores what they return.
"""

from contracts.chains import ChainValidity, GrantIndex, Problem, check_new_grant, validate_chain
from contracts.errors import ContractError
from contracts.licences import (
    Licence,
    LicenceTemplate,
    PartialRefundEffect,
    derive_licence,
    reduced_licence,
    unused_share,
)
from contracts.links import FaultCode
from contracts.odrl import OfferPrice, grant_to_odrl, licence_to_odrl, offer_to_odrl
from contracts.odrl_terms import ODRL_CONTEXT, ODRL_TERMS, Identifiers, profile_term
from contracts.rights import (
    ALLOWED_PARENT_KINDS,
    Purpose,
    RightGrant,
    RightKind,
    Scope,
    Territory,
    parse_purpose,
    parse_purposes,
)
from contracts.trees import RightsTreeNode, revocation_effect, rights_tree, tree

__all__ = [
    "ALLOWED_PARENT_KINDS",
    "ODRL_CONTEXT",
    "ODRL_TERMS",
    "ChainValidity",
    "ContractError",
    "FaultCode",
    "GrantIndex",
    "Identifiers",
    "Licence",
    "LicenceTemplate",
    "OfferPrice",
    "PartialRefundEffect",
    "Problem",
    "Purpose",
    "RightGrant",
    "RightKind",
    "RightsTreeNode",
    "Scope",
    "Territory",
    "check_new_grant",
    "derive_licence",
    "grant_to_odrl",
    "licence_to_odrl",
    "offer_to_odrl",
    "parse_purpose",
    "parse_purposes",
    "profile_term",
    "reduced_licence",
    "revocation_effect",
    "rights_tree",
    "tree",
    "unused_share",
    "validate_chain",
]
