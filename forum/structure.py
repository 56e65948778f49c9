"""The forum tree of the network, derived from the directory (themes, regions, working groups)."""

from __future__ import annotations

from dataclasses import dataclass, field

from directory.access import ForumKind
from directory.models import Region, Theme, WorkingGroup

MEETINGS_FORUM_NAME = "Réunion nationale des Président·es"


@dataclass
class ForumSpec:
    key: str
    name: str
    kind: str
    description: str = ""
    theme: Theme | None = None
    region: Region | None = None
    working_group: WorkingGroup | None = None
    is_meetings_forum: bool = False


@dataclass
class CategorySpec:
    key: str
    name: str
    description: str
    forums: list[ForumSpec] = field(default_factory=list)


def forum_tree() -> list[CategorySpec]:
    """The whole tree, in display order. Keys are stable: they identify forums across runs."""
    themes = list(Theme.objects.order_by("kind", "name"))
    regions = list(Region.objects.order_by("name"))
    working_groups = list(WorkingGroup.objects.order_by("name"))
    return [
        CategorySpec("cat:themes", "Espaces thématiques", "Échanges de pratiques par thématique et par mesure.", [
            ForumSpec(f"theme:{t.slug}", t.name, ForumKind.THEME, f"Questions et partages sur : {t.name}.", theme=t)
            for t in themes
        ]),
        CategorySpec("cat:direction", "Direction", "L'espace des directeurs et directrices (fiche II.8).", [
            ForumSpec("direction", "Entre directeurs et directrices", ForumKind.DIRECTION,
                      "Un espace entre pairs pour rompre l'isolement de la fonction de direction."),
        ]),
        CategorySpec("cat:presidency", "Présidence", "Les président·es des associations adhérentes.", [
            ForumSpec("presidency:meetings", MEETINGS_FORUM_NAME, ForumKind.PRESIDENCY,
                      "Les fils des réunions nationales des Président·es : ordre du jour, comptes rendus, "
                      "échanges.", is_meetings_forum=True),
        ]),
        CategorySpec("cat:board", "Conseil d'administration", "L'espace du conseil d'administration fédéral.", [
            ForumSpec("board", "Travaux du conseil d'administration", ForumKind.BOARD,
                      "Préparation des séances et suivi des décisions."),
        ]),
        CategorySpec("cat:regions", "Régions", "La vie régionale animée par les DICA et les correspondant·es.", [
            ForumSpec(f"region:{r.slug}", f"Région {r.name}", ForumKind.REGION,
                      f"Réunions régionales, outils et pratiques en {r.name}.", region=r)
            for r in regions
        ]),
        CategorySpec("cat:working-groups", "Groupes de travail", "Les groupes de travail des commissions.", [
            ForumSpec(f"wg:{wg.slug}", wg.name, ForumKind.WORKING_GROUP, wg.description, working_group=wg)
            for wg in working_groups
        ]),
        CategorySpec("cat:welcome", "Accueil des nouveaux adhérents", "Bienvenue dans le réseau !", [
            ForumSpec("welcome", "Présentations et premiers pas", ForumKind.WELCOME,
                      "Les nouvelles associations se présentent ; le réseau les accueille."),
        ]),
    ]
