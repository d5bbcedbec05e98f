"""Authentication levels (``acr``): the configured value is a minimum, not an exact match.

A level is known by its *family* (levels of one family compare, levels of two families never
do), its *rank* in that family and whether it proves a second factor.  A level satisfies a
minimum of the same family when its rank is at least the minimum's and, if the minimum requires
a second factor, it proves one too.  An unknown level (or none) satisfies nothing.

ProConnect's levels, from its partner documentation (partenaires.proconnect.gouv.fr, « Niveaux
d'assurance eidas pour les Fournisseurs de Service » and « Niveaux d'assurance et utilisation
de l'ACR »; the federation's own tests show an identity provider answering ``eidas3`` to a
request for ``eidas1``, so a stronger level is a normal answer):

======================  ====  ============  ===============================================
level                   rank  2nd factor    what it says
======================  ====  ============  ===============================================
``eidas0``              0     no            weak or self-declared identity, password
``eidas0-mfa``          0     yes           the same with a second factor (self-managed)
``eidas1``              1     no            weak identity (eIDAS low), password
``eidas1-mfa``          1     yes           the same with a second factor (self-managed)
``eidas2``              2     yes           substantial, second factor run by the employer
``eidas3``              3     yes           high, hardware second factor (agent card)
======================  ====  ============  ===============================================

So ``eidas1`` < ``eidas1-mfa`` < ``eidas2`` < ``eidas3``, and ``eidas0-mfa`` satisfies neither
``eidas1`` (weaker identity) nor is it satisfied by ``eidas1`` (no second factor).  ProConnect
Identité's own levels form a second family, in the documented order ``self-asserted``,
``self-asserted-2fa``, ``consistency-checked``, ``consistency-checked-2fa`` (identity checked
for consistency ranks above a declared one, ``-2fa`` adds the second factor);
``certification-dirigeant`` (a role, not a strength) only satisfies itself.

A generic provider's levels are configured as an ordered list, weakest first
(``acr_levels``): each one satisfies the minimums listed before it.  Without that list, a
generic provider's ``acr_values`` are accepted as given, each only by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from maillage.platform.config import ConfigError

PROCONNECT_ASSURANCE = "https://proconnect.gouv.fr/assurance/"


@dataclass(frozen=True)
class Level:
    family: str
    rank: int
    second_factor: bool = False

    def satisfies(self, minimum: Level) -> bool:
        return (
            self.family == minimum.family
            and self.rank >= minimum.rank
            and (self.second_factor or not minimum.second_factor)
        )


#: ProConnect's levels (see the module's docstring for the source of this order)
PROCONNECT_LEVELS: dict[str, Level] = {
    "eidas0": Level("eidas", 0),
    "eidas0-mfa": Level("eidas", 0, second_factor=True),
    "eidas1": Level("eidas", 1),
    "eidas1-mfa": Level("eidas", 1, second_factor=True),
    "eidas2": Level("eidas", 2, second_factor=True),
    "eidas3": Level("eidas", 3, second_factor=True),
    PROCONNECT_ASSURANCE + "self-asserted": Level("proconnect-identite", 0),
    PROCONNECT_ASSURANCE + "self-asserted-2fa": Level("proconnect-identite", 0, True),
    PROCONNECT_ASSURANCE + "consistency-checked": Level("proconnect-identite", 1),
    PROCONNECT_ASSURANCE + "consistency-checked-2fa": Level("proconnect-identite", 1, True),
    PROCONNECT_ASSURANCE + "certification-dirigeant": Level("certification-dirigeant", 0),
}


def ordered_levels(names: tuple[str, ...]) -> dict[str, Level]:
    """A generic provider's ``acr_levels``, weakest first, as levels of one family."""
    return {name: Level("configured", rank) for rank, name in enumerate(names)}


@dataclass(frozen=True)
class AcrPolicy:
    """The minimum levels a sign-in must reach (any one of them), over ``levels``.

    ``minimums`` empty: no requirement.  A minimum that ``levels`` does not know is only
    satisfied by itself (the behaviour of an exact list).
    """

    minimums: tuple[str, ...]
    levels: dict[str, Level]

    @classmethod
    def build(
        cls, minimums: tuple[str, ...], levels: dict[str, Level], where: str, strict: bool
    ) -> AcrPolicy:
        """``strict``: every minimum must be one of ``levels`` (a configured list is complete;
        ProConnect's may grow, so an unknown minimum there is only matched exactly)."""
        unknown = [value for value in minimums if value not in levels]
        if strict and unknown:
            raise ConfigError(
                f"{where}: acr_values {unknown} are not in acr_levels ({', '.join(levels)})"
            )
        return cls(tuple(minimums), dict(levels))

    def satisfied_by(self, acr) -> bool:
        """Whether an ID token's ``acr`` reaches one of the minimums (always, without any)."""
        if not self.minimums:
            return True
        if not isinstance(acr, str):
            return False
        return any(self._reaches(acr, minimum) for minimum in self.minimums)

    def _reaches(self, acr: str, minimum: str) -> bool:
        if acr == minimum:
            return True
        level, required = self.levels.get(acr), self.levels.get(minimum)
        return level is not None and required is not None and level.satisfies(required)

    def accepted_values(self) -> tuple[str, ...]:
        """Every known level that reaches a minimum, the minimums first (the order of
        preference of ``acr_values``), then the stronger ones in the known order."""
        stronger = [name for name in self.levels if self.satisfied_by(name)]
        return tuple(dict.fromkeys((*self.minimums, *stronger)))
