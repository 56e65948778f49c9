"""Demo data for Passerelles: a believable French network, deterministic and idempotent.

`seed()` is what `python manage.py seed_demo` runs. It works in two phases:

1. `build_directory_plan(scale)` computes, without touching the database, every association, person,
   role and working group from a fixed random seed and a fixed reference date. The same scale always
   gives the same plan, and the plan for a smaller scale is a prefix of the plan for a larger one.
2. `seed_directory()` applies the plan with get-or-create / update-or-create keyed on slugs and
   usernames, so running it again leaves the same rows. The core network (scale 1) goes through
   `directory.services` like any other change; the extra copies asked for by `--scale` go through a
   bulk path that writes the same rows, groups included, in a few queries.

Later issues add their own steps (`seed_membership`, `seed_forum`, `seed_cms`…) to `seed()`.
"""

from __future__ import annotations

import io
import random
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple, Protocol
from xml.sax.saxutils import escape as xml_escape

from django.core.files.storage import Storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import slugify

from demo.chat import seed_chat
from demo.cms import seed_cms
from demo.dates import REFERENCE_DATE
from demo.forum import seed_forum
from directory import access, services
from directory import groups as directory_groups
from directory.models import (
    Association,
    CourDAppel,
    Juridiction,
    Region,
    RoleAssignment,
    SizeBand,
    Theme,
    User,
    WorkingGroup,
)
from directory.reference import JURIDICTIONS, REGIONS, THEMES, de, load_reference_data
from directory.roles import REGION_SCOPED, Role
from directory.services import RoleSpec
from membership import services as membership
from membership.models import ApplicationEvent, InformationRequest, MembershipApplication
from parrainage import contacts as parrainage_contacts
from parrainage import services as parrainage_services
from parrainage.models import Parrainage
from search import indexing

SEED = 20250915
DEMO_PASSWORD = "demo-passerelles"
FEDERATION_DOMAIN = "federation-passerelles.exemple.fr"
# Rows per query when filtering on long lists of ids (SQLite limits bound parameters).
CHUNK = 500


class Writer(Protocol):
    def write(self, msg: str) -> object: ...


# --- Geography --------------------------------------------------------------------------------------

# Postal code and département of every city that has a tribunal judiciaire in directory.reference.
LOCALITIES: dict[str, tuple[str, str]] = {
    "Agen": ("47000", "47"), "Auch": ("32000", "32"), "Cahors": ("46000", "46"),
    "Marseille": ("13006", "13"), "Aix-en-Provence": ("13100", "13"), "Toulon": ("83000", "83"),
    "Nice": ("06000", "06"), "Draguignan": ("83300", "83"), "Grasse": ("06130", "06"),
    "Amiens": ("80000", "80"), "Beauvais": ("60000", "60"), "Compiègne": ("60200", "60"),
    "Laon": ("02000", "02"), "Saint-Quentin": ("02100", "02"),
    "Angers": ("49000", "49"), "Le Mans": ("72000", "72"), "Laval": ("53000", "53"), "Saumur": ("49400", "49"),
    "Basse-Terre": ("97100", "971"), "Pointe-à-Pitre": ("97110", "971"),
    "Bastia": ("20200", "2B"), "Ajaccio": ("20000", "2A"),
    "Besançon": ("25000", "25"), "Belfort": ("90000", "90"), "Lons-le-Saunier": ("39000", "39"),
    "Vesoul": ("70000", "70"),
    "Bordeaux": ("33000", "33"), "Libourne": ("33500", "33"), "Périgueux": ("24000", "24"),
    "Angoulême": ("16000", "16"), "Bergerac": ("24100", "24"),
    "Bourges": ("18000", "18"), "Châteauroux": ("36000", "36"), "Nevers": ("58000", "58"),
    "Caen": ("14000", "14"), "Cherbourg": ("50100", "50"), "Alençon": ("61000", "61"),
    "Lisieux": ("14100", "14"), "Coutances": ("50200", "50"),
    "Cayenne": ("97300", "973"),
    "Chambéry": ("73000", "73"), "Annecy": ("74000", "74"), "Thonon-les-Bains": ("74200", "74"),
    "Albertville": ("73200", "73"),
    "Colmar": ("68000", "68"), "Mulhouse": ("68100", "68"), "Strasbourg": ("67000", "67"),
    "Saverne": ("67700", "67"),
    "Dijon": ("21000", "21"), "Chalon-sur-Saône": ("71100", "71"), "Mâcon": ("71000", "71"),
    "Chaumont": ("52000", "52"),
    "Lille": ("59000", "59"), "Douai": ("59500", "59"), "Valenciennes": ("59300", "59"),
    "Arras": ("62000", "62"), "Boulogne-sur-Mer": ("62200", "62"), "Dunkerque": ("59140", "59"),
    "Fort-de-France": ("97200", "972"),
    "Grenoble": ("38000", "38"), "Valence": ("26000", "26"), "Vienne": ("38200", "38"), "Gap": ("05000", "05"),
    "Limoges": ("87000", "87"), "Brive-la-Gaillarde": ("19100", "19"), "Guéret": ("23000", "23"),
    "Tulle": ("19000", "19"),
    "Lyon": ("69003", "69"), "Villefranche-sur-Saône": ("69400", "69"), "Saint-Étienne": ("42000", "42"),
    "Bourg-en-Bresse": ("01000", "01"), "Roanne": ("42300", "42"),
    "Metz": ("57000", "57"), "Thionville": ("57100", "57"), "Sarreguemines": ("57200", "57"),
    "Montpellier": ("34000", "34"), "Béziers": ("34500", "34"), "Perpignan": ("66000", "66"),
    "Narbonne": ("11100", "11"), "Carcassonne": ("11000", "11"), "Rodez": ("12000", "12"),
    "Nancy": ("54000", "54"), "Épinal": ("88000", "88"), "Bar-le-Duc": ("55000", "55"), "Verdun": ("55100", "55"),
    "Nîmes": ("30000", "30"), "Avignon": ("84000", "84"), "Carpentras": ("84200", "84"), "Alès": ("30100", "30"),
    "Privas": ("07000", "07"),
    "Nouméa": ("98800", "988"),
    "Orléans": ("45000", "45"), "Tours": ("37000", "37"), "Blois": ("41000", "41"),
    "Papeete": ("98714", "987"),
    "Paris": ("75017", "75"), "Bobigny": ("93000", "93"), "Créteil": ("94000", "94"),
    "Évry-Courcouronnes": ("91000", "91"), "Meaux": ("77100", "77"), "Melun": ("77000", "77"),
    "Sens": ("89100", "89"), "Auxerre": ("89000", "89"),
    "Pau": ("64000", "64"), "Bayonne": ("64100", "64"), "Mont-de-Marsan": ("40000", "40"), "Dax": ("40100", "40"),
    "Tarbes": ("65000", "65"),
    "Poitiers": ("86000", "86"), "La Rochelle": ("17000", "17"), "Niort": ("79000", "79"),
    "La Roche-sur-Yon": ("85000", "85"), "Saintes": ("17100", "17"),
    "Reims": ("51100", "51"), "Châlons-en-Champagne": ("51000", "51"), "Charleville-Mézières": ("08000", "08"),
    "Troyes": ("10000", "10"),
    "Rennes": ("35000", "35"), "Nantes": ("44000", "44"), "Brest": ("29200", "29"), "Quimper": ("29000", "29"),
    "Lorient": ("56100", "56"), "Vannes": ("56000", "56"), "Saint-Brieuc": ("22000", "22"),
    "Saint-Nazaire": ("44600", "44"),
    "Clermont-Ferrand": ("63000", "63"), "Moulins": ("03000", "03"), "Montluçon": ("03100", "03"),
    "Aurillac": ("15000", "15"), "Le Puy-en-Velay": ("43000", "43"), "Cusset": ("03300", "03"),
    "Rouen": ("76000", "76"), "Le Havre": ("76600", "76"), "Évreux": ("27000", "27"), "Dieppe": ("76200", "76"),
    "Saint-Denis": ("97400", "974"), "Saint-Pierre": ("97410", "974"), "Mamoudzou": ("97600", "976"),
    "Toulouse": ("31000", "31"), "Albi": ("81000", "81"), "Castres": ("81100", "81"),
    "Montauban": ("82000", "82"), "Foix": ("09000", "09"),
    "Versailles": ("78000", "78"), "Nanterre": ("92000", "92"), "Pontoise": ("95300", "95"),
    "Chartres": ("28000", "28"),
}

# "du Nord", "de la Gironde"…: used in generated association names.
DEPARTEMENTS: dict[str, str] = {
    "01": "de l'Ain", "02": "de l'Aisne", "03": "de l'Allier", "05": "des Hautes-Alpes",
    "06": "des Alpes-Maritimes", "07": "de l'Ardèche", "08": "des Ardennes", "09": "de l'Ariège",
    "10": "de l'Aube", "11": "de l'Aude", "12": "de l'Aveyron", "13": "des Bouches-du-Rhône",
    "14": "du Calvados", "15": "du Cantal", "16": "de la Charente", "17": "de la Charente-Maritime",
    "18": "du Cher", "19": "de la Corrèze", "2A": "de Corse-du-Sud", "2B": "de Haute-Corse",
    "21": "de la Côte-d'Or", "22": "des Côtes-d'Armor", "23": "de la Creuse", "24": "de la Dordogne",
    "25": "du Doubs", "26": "de la Drôme", "27": "de l'Eure", "28": "d'Eure-et-Loir", "29": "du Finistère",
    "30": "du Gard", "31": "de la Haute-Garonne", "32": "du Gers", "33": "de la Gironde", "34": "de l'Hérault",
    "35": "d'Ille-et-Vilaine", "36": "de l'Indre", "37": "d'Indre-et-Loire", "38": "de l'Isère", "39": "du Jura",
    "40": "des Landes", "41": "de Loir-et-Cher", "42": "de la Loire", "43": "de la Haute-Loire",
    "44": "de Loire-Atlantique", "45": "du Loiret", "46": "du Lot", "47": "de Lot-et-Garonne",
    "49": "de Maine-et-Loire", "50": "de la Manche", "51": "de la Marne", "52": "de la Haute-Marne",
    "53": "de la Mayenne", "54": "de Meurthe-et-Moselle", "55": "de la Meuse", "56": "du Morbihan",
    "57": "de la Moselle", "58": "de la Nièvre", "59": "du Nord", "60": "de l'Oise", "61": "de l'Orne",
    "62": "du Pas-de-Calais", "63": "du Puy-de-Dôme", "64": "des Pyrénées-Atlantiques",
    "65": "des Hautes-Pyrénées", "66": "des Pyrénées-Orientales", "67": "du Bas-Rhin", "68": "du Haut-Rhin",
    "69": "du Rhône", "70": "de la Haute-Saône", "71": "de Saône-et-Loire", "72": "de la Sarthe",
    "73": "de la Savoie", "74": "de la Haute-Savoie", "75": "de Paris", "76": "de la Seine-Maritime",
    "77": "de Seine-et-Marne", "78": "des Yvelines", "79": "des Deux-Sèvres", "80": "de la Somme",
    "81": "du Tarn", "82": "de Tarn-et-Garonne", "83": "du Var", "84": "de Vaucluse", "85": "de la Vendée",
    "86": "de la Vienne", "87": "de la Haute-Vienne", "88": "des Vosges", "89": "de l'Yonne",
    "90": "du Territoire de Belfort", "91": "de l'Essonne", "92": "des Hauts-de-Seine",
    "93": "de la Seine-Saint-Denis", "94": "du Val-de-Marne", "95": "du Val-d'Oise", "971": "de la Guadeloupe",
    "972": "de la Martinique", "973": "de la Guyane", "974": "de La Réunion", "976": "de Mayotte",
    "987": "de Polynésie française", "988": "de Nouvelle-Calédonie",
}

# First two digits of landlines, by département (overseas numbers have their own prefixes).
_PHONE_ZONES = {
    "01": "75 77 78 91 92 93 94 95",
    "02": "14 18 22 27 28 29 35 36 37 41 44 45 49 50 53 56 61 72 76 85",
    "03": "02 08 10 21 25 39 51 52 54 55 57 58 59 60 62 67 68 70 71 80 88 89 90",
    "04": "01 03 05 06 07 11 13 15 26 30 34 38 42 43 63 66 69 73 74 83 84 2A 2B",
    "05": "09 12 16 17 19 23 24 31 32 33 40 46 47 64 65 79 81 82 86 87",
}
PHONE_PREFIX: dict[str, str] = {dep: zone for zone, deps in _PHONE_ZONES.items() for dep in deps.split()}
PHONE_PREFIX.update({"971": "05 90", "972": "05 96", "973": "05 94", "974": "02 62", "976": "02 69"})

CITY_COUR: dict[str, str] = {city: cour for cour, cities in JURIDICTIONS.items() for city in cities}
COUR_REGION: dict[str, str] = {cour: region for region, cours in REGIONS.items() for cour in cours}
ALL_CITIES: list[str] = sorted(CITY_COUR)

STREETS = [
    "rue Victor-Hugo", "avenue Jean-Jaurès", "boulevard Gambetta", "rue de la République", "place du Palais",
    "rue Pasteur", "rue des Tanneurs", "quai de la Douane", "rue Émile-Zola", "allée des Tilleuls",
    "rue du Maréchal-Foch", "cours de la Liberté", "rue Jules-Ferry", "avenue de la Gare", "rue Voltaire",
    "rue des Carmes", "place de l'Hôtel-de-Ville", "rue Lucie-Aubrac", "rue Simone-Veil", "impasse des Lilas",
    "rue Gabriel-Péri", "boulevard de la Paix", "rue Jean-Moulin", "rue du Four", "chemin des Écoliers",
]


# --- Themes --------------------------------------------------------------------------------------------

def theme_slug(name: str) -> str:
    """The slug directory.reference gives a theme or measure."""
    return slugify(name)


MEASURES = [name for name, kind in THEMES if kind == "measure"]
TOPICS = [name for name, kind in THEMES if kind == "theme"]
CJSE = "Contrôle judiciaire socio-éducatif (CJSE)"
_MEASURE_NAMES = {theme_slug(m): m for m in MEASURES}

# With their article, to write sentences ("Elle met en œuvre le contrôle judiciaire…").
MEASURE_PHRASES: dict[str, str] = {
    CJSE: "le contrôle judiciaire socio-éducatif",
    "Enquêtes sociales rapides": "les enquêtes sociales rapides",
    "Enquêtes de personnalité": "les enquêtes de personnalité",
    "Médiation pénale": "la médiation pénale",
    "Stage de citoyenneté": "les stages de citoyenneté",
    "Stage de sensibilisation aux violences conjugales": "les stages de sensibilisation aux violences conjugales",
    "Placement à l'extérieur": "le placement à l'extérieur",
    "Accompagnement des auteurs de violences conjugales": "l'accompagnement des auteurs de violences conjugales",
}


class WorkingGroupPlan(NamedTuple):
    slug: str
    name: str
    description: str
    theme: str  # theme slug


WORKING_GROUPS: list[WorkingGroupPlan] = [
    WorkingGroupPlan(
        "ethique", "Éthique",
        "Repères éthiques des interventions socio-judiciaires : secret partagé, consentement, place de la "
        "personne accompagnée face à la contrainte judiciaire.",
        theme_slug("Éthique"),
    ),
    WorkingGroupPlan(
        "justice-des-enfants", "Justice des enfants",
        "Mise en œuvre du code de la justice pénale des mineurs, mesures éducatives judiciaires et "
        "articulation avec la protection judiciaire de la jeunesse.",
        theme_slug("Justice des enfants et des adolescents"),
    ),
    WorkingGroupPlan(
        "violences-conjugales", "Violences conjugales",
        "Stages de responsabilisation, accompagnement des auteurs et lien avec les associations d'aide aux "
        "victimes : partage des outils et des protocoles locaux.",
        theme_slug("Accompagnement des auteurs de violences conjugales"),
    ),
    WorkingGroupPlan(
        "financement", "Financement",
        "Tarification des mesures, frais de justice, conventions avec les cours d'appel et réponses communes "
        "aux appels à projets.",
        theme_slug("Financement"),
    ),
    WorkingGroupPlan(
        "place-des-personnes-accompagnees", "Place des personnes accompagnées",
        "Associer les personnes accompagnées à la vie des associations et à l'évaluation des mesures.",
        theme_slug("Place des personnes accompagnées"),
    ),
]


# --- People ---------------------------------------------------------------------------------------------

FEMALE_FIRST_NAMES = [
    "Claire", "Sophie", "Nadia", "Mathilde", "Isabelle", "Nathalie", "Catherine", "Valérie", "Sandrine",
    "Céline", "Aurélie", "Émilie", "Julie", "Camille", "Léa", "Manon", "Chloé", "Sarah", "Laura", "Pauline",
    "Marion", "Hélène", "Anne", "Marie", "Christine", "Sylvie", "Véronique", "Agnès", "Florence", "Delphine",
    "Karine", "Stéphanie", "Élodie", "Amandine", "Audrey", "Virginie", "Fatima", "Samira", "Leïla", "Yasmina",
    "Aïcha", "Inès", "Océane", "Justine", "Margaux", "Anaïs", "Lucie", "Charlotte", "Solène", "Gaëlle",
    "Maëlle", "Nolwenn", "Corinne", "Martine", "Brigitte", "Françoise", "Odile", "Bérénice", "Jeanne", "Louise",
]
MALE_FIRST_NAMES = [
    "Philippe", "Bernard", "Karim", "Yannick", "Jean-Marc", "Laurent", "Nicolas", "Stéphane", "Olivier",
    "Christophe", "Frédéric", "Thierry", "Pascal", "Éric", "Julien", "Mathieu", "Sébastien", "Guillaume",
    "Antoine", "Thomas", "Maxime", "Romain", "Alexandre", "Vincent", "François", "Pierre", "Jacques", "Michel",
    "Alain", "Patrick", "Didier", "Hervé", "Gilles", "Denis", "Samir", "Mehdi", "Rachid", "Youssef", "Moussa",
    "Mamadou", "Hugo", "Lucas", "Théo", "Baptiste", "Quentin", "Florian", "Arnaud", "Benoît", "Damien",
    "Jérôme", "Loïc", "Erwan", "Gaël", "Ludovic", "Marc", "Yves", "Bruno", "Serge", "Dominique", "Cédric",
]
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
    "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
    "Morel", "Girard", "André", "Lefèvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez",
    "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas",
    "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin",
    "Masson", "Sanchez", "Gérard", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Gautier",
    "Roger", "Roche", "Roy", "Noël", "Meyer", "Lucas", "Meunier", "Jean", "Pérez", "Marchand",
    "Dufour", "Blanchard", "Barbier", "Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin", "Fernandez",
    "Renard", "Arnaud", "Rolland", "Caron", "Aubert", "Giraud", "Leclerc", "Vidal", "Bourgeois", "Renaud",
    "Lemoine", "Picard", "Gaillard", "Leclercq", "Lacroix", "Fabre", "Dupuis", "Olivier", "Rodriguez",
    "Da Silva", "Hubert", "Louis", "Charles", "Guillot", "Rivière", "Le Gall", "Adam", "Rey", "Moulin",
    "Gonzalez", "Berger", "Lecomte", "Ménard", "Fleury", "Deschamps", "Carpentier", "Maillard", "Marchal",
    "Aubry", "Renault", "Jacquet", "Collet", "Prévost", "Poirier", "Charpentier", "Royer", "Huet", "Baron",
    "Dupuy", "Pons", "Carré", "Breton", "Rémy", "Schneider", "Perrot", "Benali", "Haddad", "Diallo",
    "Traoré", "Mendy", "Hoarau", "Payet", "Grondin", "Le Goff", "Tanguy", "Etcheverry", "Casanova", "Santoni",
]

# (feminine, masculine) job titles of an association's team.
DIRECTOR_TITLE = ("Directrice", "Directeur")
PRESIDENT_TITLE = ("Présidente du conseil d'administration", "Président du conseil d'administration")
HEAD_OF_SERVICE_TITLE = ("Cheffe de service", "Chef de service")
WORKER_TITLE = ("Intervenante socio-judiciaire", "Intervenant socio-judiciaire")
STAFF_TITLES = [
    WORKER_TITLE, WORKER_TITLE, WORKER_TITLE,
    ("Enquêtrice sociale", "Enquêteur social"),
    ("Médiatrice pénale", "Médiateur pénal"),
    ("Éducatrice spécialisée", "Éducateur spécialisé"),
    ("Assistante de service social", "Assistant de service social"),
    ("Psychologue", "Psychologue"),
    ("Juriste", "Juriste"),
    ("Chargée d'insertion", "Chargé d'insertion"),
    ("Responsable administrative et financière", "Responsable administratif et financier"),
    ("Secrétaire de direction", "Secrétaire de direction"),
]

DIRECTOR_BIOS = [
    "À la direction de l'association depuis {year}, après une quinzaine d'années d'intervention en milieu ouvert.",
    "Direction de l'association depuis {year} ; auparavant responsable d'un service d'enquêtes sociales rapides.",
    "Dirige l'association depuis {year} et travaille au rapprochement avec les associations voisines.",
    "Prise de poste à la direction en {year}, après un parcours en protection de l'enfance.",
]
PRESIDENT_BIOS = [
    "Bénévole, préside le conseil d'administration depuis {year} après une carrière dans l'éducation spécialisée.",
    "Préside le conseil d'administration depuis {year} ; longue expérience du barreau {de_city}.",
    "Engagement associatif de longue date ; présidence du conseil d'administration depuis {year}.",
    "Présidence de l'association depuis {year}, après un parcours à la protection judiciaire de la jeunesse.",
]
STAFF_BIOS = [
    "Intervient principalement sur {measure} auprès du tribunal judiciaire {de_city}.",
    "Dans l'équipe depuis {year} ; travaille surtout sur {measure}.",
    "Coordonne les permanences au tribunal judiciaire {de_city} et participe aux échanges de pratiques du réseau.",
    "Assure le suivi des personnes accompagnées, de l'entretien d'accueil à la fin de la mesure.",
]
DESCRIPTIONS = [
    "{name} intervient depuis {founded} sur le ressort de la cour d'appel {de_cour}. Elle met en œuvre "
    "{measures}, en lien étroit avec les magistrats, les SPIP et la PJJ.",
    "Fondée en {founded}, l'association accompagne les personnes placées sous main de justice {de_city} et "
    "alentour : {measures}. Son équipe compte {staff} salarié·es.",
    "Association {de_city} créée en {founded}, elle propose {measures}. Elle s'investit dans le réseau sur la "
    "thématique « {topic} ».",
]


class CoreAssociation(NamedTuple):
    """A hand-written association of the scale-1 network."""

    slug: str
    name: str
    city: str
    staff: int
    status: str = Association.Status.MEMBER
    admitted_days_ago: int | None = None  # None: drawn at random (members and former members)
    sponsor: bool = False


_CANDIDATE = Association.Status.CANDIDATE
_FORMER = Association.Status.FORMER

CORE_ASSOCIATIONS: list[CoreAssociation] = [
    # Sud-Ouest
    CoreAssociation("acjs-33", "ACJS 33 – Association de Contrôle Judiciaire Socio-éducatif de la Gironde",
                    "Bordeaux", 64, sponsor=True),
    CoreAssociation("relais-judiciaire-perigord", "Relais Judiciaire du Périgord", "Périgueux", 14),
    CoreAssociation("semel", "SEMEL – Service d'Enquêtes et de Médiation du Libournais", "Libourne", 6),
    CoreAssociation("acaj-16", "Association Charentaise d'Accompagnement Judiciaire", "Angoulême", 18),
    CoreAssociation("atcje", "ATCJE – Association Toulousaine de Contrôle Judiciaire et d'Enquêtes", "Toulouse", 85,
                    sponsor=True),
    CoreAssociation("passage-tarn", "Passage – Médiation et Réinsertion dans le Tarn", "Albi", 9),
    CoreAssociation("abasj-64", "Association Béarnaise d'Aide Socio-Judiciaire", "Pau", 27),
    CoreAssociation("alme-87", "Association Limousine de Médiation et d'Enquêtes", "Limoges", 21),
    CoreAssociation("apij-86", "Association Poitevine d'Insertion et de Justice", "Poitiers", 33),
    CoreAssociation("cap-ocean", "Cap Océan – Accompagnement judiciaire en Charente-Maritime", "La Rochelle", 12),
    CoreAssociation("agcj-47", "Association Gasconne de Contrôle Judiciaire", "Agen", 8),
    CoreAssociation("alme-40", "ALME 40 – Association Landaise de Médiation et d'Enquêtes", "Mont-de-Marsan", 5,
                    admitted_days_ago=75),
    # Île-de-France
    CoreAssociation("apecj", "APECJ – Association Parisienne d'Enquêtes et de Contrôle Judiciaire", "Paris", 168,
                    sponsor=True),
    CoreAssociation("trait-dunion-93", "Trait d'Union 93 – Aide aux justiciables de Seine-Saint-Denis", "Bobigny",
                    74),
    CoreAssociation("avmp-94", "Association Val-de-Marnaise de Médiation Pénale", "Créteil", 38),
    CoreAssociation("aecj-91", "Association Essonnienne de Contrôle Judiciaire", "Évry-Courcouronnes", 45),
    CoreAssociation("ayes-78", "Association Yvelinoise d'Enquêtes Sociales", "Versailles", 29),
    CoreAssociation("horizon-92", "Horizon 92 – Insertion et Justice dans les Hauts-de-Seine", "Nanterre", 55),
    CoreAssociation("asj-95", "Association Socio-Judiciaire du Val-d'Oise", "Pontoise", 24),
    CoreAssociation("asmr-77", "Association Seine-et-Marnaise de Médiation et de Réinsertion", "Meaux", 16,
                    status=_FORMER),
    CoreAssociation("aim-89", "Association Icaunaise de Médiation", "Auxerre", 4),
    # Nord-Est
    CoreAssociation("asjml", "ASJML – Association Socio-Judiciaire de la Métropole Lilloise", "Lille", 142,
                    sponsor=True),
    CoreAssociation("aaem-62", "Association Arrageoise d'Enquêtes et de Médiation", "Arras", 19),
    CoreAssociation("escale-dunkerquois", "L'Escale – Contrôle judiciaire et insertion du Dunkerquois",
                    "Dunkerque", 11),
    CoreAssociation("aajr-67", "Association Alsacienne de Justice et de Réinsertion", "Strasbourg", 96),
    CoreAssociation("amasj-57", "Association Mosellane d'Aide Socio-Judiciaire", "Metz", 41),
    CoreAssociation("alme-54", "Association Lorraine de Médiation et d'Enquêtes", "Nancy", 23),
    CoreAssociation("acaj-51", "Association Champenoise d'Accompagnement Judiciaire", "Reims", 15),
    CoreAssociation("apcj-80", "Association Picarde de Contrôle Judiciaire", "Amiens", 20),
    # Grand Ouest
    CoreAssociation("arecj-35", "Association Rennaise d'Enquêtes et de Contrôle Judiciaire", "Rennes", 48),
    CoreAssociation("mj-44", "Médiation et Justice en Loire-Atlantique", "Nantes", 70, sponsor=True),
    CoreAssociation("afasj-29", "Association Finistérienne d'Aide Socio-Judiciaire", "Brest", 26),
    CoreAssociation("ancj-14", "Association Normande de Contrôle Judiciaire", "Caen", 31),
    CoreAssociation("ares-76", "Association Rouennaise d'Enquêtes Sociales", "Rouen", 37),
    CoreAssociation("aamp-49", "Association Angevine de Médiation Pénale", "Angers", 13),
    CoreAssociation("asr-72", "Association Sarthoise de Réinsertion", "Le Mans", 7, status=_CANDIDATE),
    # Centre-Est
    CoreAssociation("horizon-justice-rhone", "Horizon Justice Rhône", "Lyon", 121, sponsor=True),
    CoreAssociation("asm-42", "Association Stéphanoise de Médiation", "Saint-Étienne", 22),
    CoreAssociation("adasj-38", "Association Dauphinoise d'Aide Socio-Judiciaire", "Grenoble", 44),
    CoreAssociation("asjm-73", "Association Savoyarde de Justice et de Médiation", "Chambéry", 17),
    CoreAssociation("abem-21", "Association Bourguignonne d'Enquêtes et de Médiation", "Dijon", 28),
    CoreAssociation("accj-25", "Association Comtoise de Contrôle Judiciaire", "Besançon", 25),
    CoreAssociation("aaasj-63", "Association Auvergnate d'Accompagnement Socio-Judiciaire", "Clermont-Ferrand", 39),
    # Centre-Val de Loire
    CoreAssociation("aocj-45", "Association Orléanaise de Contrôle Judiciaire", "Orléans", 34, sponsor=True),
    CoreAssociation("atme-37", "Association Tourangelle de Médiation et d'Enquêtes", "Tours", 21),
    CoreAssociation("abasj-18", "Association Berrichonne d'Aide Socio-Judiciaire", "Bourges", 10,
                    admitted_days_ago=160),
    # Sud-Est
    CoreAssociation("apcj-13", "Association Phocéenne de Contrôle Judiciaire", "Marseille", 110, sponsor=True),
    CoreAssociation("avmi-83", "Association Varoise de Médiation et d'Insertion", "Toulon", 36),
    CoreAssociation("aaes-06", "Association Azuréenne d'Enquêtes Sociales", "Nice", 42),
    CoreAssociation("amjr-34", "Association Montpelliéraine de Justice et de Réinsertion", "Montpellier", 58),
    CoreAssociation("agmp-30", "Association Gardoise de Médiation Pénale", "Nîmes", 19),
    CoreAssociation("acasj-2b", "Association Corse d'Aide Socio-Judiciaire", "Bastia", 8),
    CoreAssociation("accj-66", "Association Catalane de Contrôle Judiciaire", "Perpignan", 14, status=_FORMER),
    # Outre-mer
    CoreAssociation("armj-974", "Association Réunionnaise de Médiation et de Justice", "Saint-Denis", 47,
                    sponsor=True),
    CoreAssociation("agasj-971", "Association Guadeloupéenne d'Aide Socio-Judiciaire", "Pointe-à-Pitre", 22),
    CoreAssociation("amcj-972", "Association Martiniquaise de Contrôle Judiciaire", "Fort-de-France", 18,
                    admitted_days_ago=240),
    CoreAssociation("agem-973", "Association Guyanaise d'Enquêtes et de Médiation", "Cayenne", 9, status=_CANDIDATE),
]

# (parrain, filleul): the newly admitted associations and the established ones that sponsor them.
CORE_PARRAINAGES: list[tuple[str, str]] = [
    ("acjs-33", "alme-40"),
    ("aocj-45", "abasj-18"),
    ("armj-974", "amcj-972"),
]

# The rest of the parrainage journey (issue 7), as `make run` shows it. Two associations joined the
# network recently and have no parrain yet: their admission date is set after the random draws, so
# the rest of the demo stays as it was (slug: days before REFERENCE_DATE).
RECENT_ADMISSIONS: dict[str, int] = {"relais-judiciaire-perigord": 30, "passage-tarn": 45}
# A proposal awaiting the answer of the `parrain` demo account's association: (parrain, filleul).
PROPOSED_PARRAINAGES: list[tuple[str, str]] = [("acjs-33", "relais-judiciaire-perigord")]
# A proposal declined, with its reason: the filleul awaits the commission's next choice.
DECLINED_PARRAINAGES: list[tuple[str, str, str]] = [
    ("atcje", "passage-tarn",
     "Notre équipe de direction est très prise par l'ouverture d'un nouveau service cet automne ; nous serons "
     "ravis de parrainer une association au printemps."),
]
# Onboarding steps of the new adherent's parrainage: (step, days after it started, ticked by).
ONBOARDING_DONE: list[tuple[str, int, str]] = [
    ("welcome_meeting", 9, "parrain"),
    ("forum_introduction", 16, "nouvel.adherent"),
]

# Patterns for the associations generated by --scale; {de_city} is "de Lyon", {de_dep} "du Rhône".
GENERATED_NAME_PATTERNS = [
    "Association d'Enquêtes et de Médiation {de_city}",
    "Service Socio-Judiciaire {de_dep}",
    "Association de Contrôle Judiciaire {de_dep}",
    "Relais Justice {de_city}",
    "Association d'Aide aux Justiciables {de_city}",
    "Association de Réinsertion Sociale {de_dep}",
    "Médiation et Justice {de_dep}",
    "Association Socio-Éducative et Judiciaire {de_city}",
    "Accueil et Justice – {city}",
    "Association d'Accompagnement Judiciaire {de_dep}",
    "Association pour la Médiation Pénale et l'Insertion {de_city}",
    "Association d'Enquêtes Sociales {de_dep}",
    "Espace Justice Insertion {de_city}",
    "Association de Prévention et de Médiation {de_dep}",
    "Association Départementale d'Aide Socio-Judiciaire {de_dep}",
    "Collectif Justice et Citoyenneté {de_city}",
]


# --- The plan -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RolePlan:
    """A role to hold; the scope is a slug (region, theme or working group), resolved when applied."""

    role: str
    region: str | None = None
    theme: str | None = None
    working_group: str | None = None


@dataclass
class AssociationPlan:
    slug: str
    name: str
    address: str
    postal_code: str
    city: str
    departement: str
    region: str  # region slug
    juridictions: list[str]  # juridiction slugs; the cours d'appel follow
    staff_count: int
    themes: list[str]  # theme and measure slugs
    admitted_on: date | None
    status: str
    website: str
    public_email: str
    public_phone: str
    description: str
    willing_to_sponsor: bool = False

    def field_values(self, region_ids: dict[str, int]) -> dict:
        """The association's own columns (no many-to-many), as the model stores them."""
        return {
            "name": self.name,
            "address": self.address,
            "postal_code": self.postal_code,
            "city": self.city,
            "departement": self.departement,
            "region_id": region_ids[self.region],
            "staff_count": self.staff_count,
            "size_band": SizeBand.for_staff_count(self.staff_count).value,
            "admitted_on": self.admitted_on,
            "status": self.status,
            "website": self.website,
            "public_email": self.public_email,
            "public_phone": self.public_phone,
            "description": self.description,
            "willing_to_sponsor": self.willing_to_sponsor,
        }


@dataclass
class PersonPlan:
    username: str
    first_name: str
    last_name: str
    email: str
    association: str | None  # association slug
    job_title: str
    roles: list[RolePlan]
    bio: str = ""
    phone: str = ""
    contact_visible_to_members: bool = True
    expertise: list[str] = field(default_factory=list)  # theme slugs
    is_staff: bool = False
    is_superuser: bool = False
    demo: str = ""  # non-empty for a demo account: what it is, shown in the summary

    def field_values(self, association_ids: dict[str, int]) -> dict:
        """The person's own columns, as the model stores them."""
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "association_id": association_ids[self.association] if self.association else None,
            "job_title": self.job_title,
            "bio": self.bio,
            "phone": self.phone,
            "contact_visible_to_members": self.contact_visible_to_members,
            "is_staff": self.is_staff,
            "is_superuser": self.is_superuser,
            "is_active": True,
        }


@dataclass
class DirectoryPlan:
    working_groups: list[WorkingGroupPlan]
    associations: list[AssociationPlan]  # the core network, applied through the services
    people: list[PersonPlan]
    parrainages: list[tuple[str, str, date]]  # parrain slug, filleul slug, start date
    extra_associations: list[AssociationPlan] = field(default_factory=list)  # --scale copies, bulk path
    extra_people: list[PersonPlan] = field(default_factory=list)


class DemoAccount(NamedTuple):
    username: str
    first_name: str
    last_name: str
    female: bool
    association: str | None
    slot: str  # "director" or "president" replace the generated one; "staff" and "federal" are added
    roles: tuple[RolePlan, ...]
    expertise: tuple[str, ...]  # theme names
    bio: str
    summary: str
    is_staff: bool = False
    is_superuser: bool = False


DEMO_ACCOUNTS: list[DemoAccount] = [
    DemoAccount(
        "directrice", "Claire", "Vasseur", True, "horizon-justice-rhone", "director",
        (RolePlan(Role.DIRECTOR), RolePlan(Role.WORKING_GROUP_MEMBER, working_group="ethique")),
        ("Fonction de direction", "Éthique", CJSE),
        "Dirige Horizon Justice Rhône depuis 2016, après dix ans comme cheffe de service en milieu ouvert. "
        "Anime l'échange de pratiques des directions de la région Centre-Est.",
        "directrice d'une association adhérente (Horizon Justice Rhône, Lyon)",
    ),
    DemoAccount(
        "president", "Bernard", "Lemaire", False, "horizon-justice-rhone", "president",
        (RolePlan(Role.PRESIDENT),),
        ("Vie associative et conseils d'administration",),
        "Magistrat honoraire, préside le conseil d'administration d'Horizon Justice Rhône depuis 2019.",
        "président du conseil d'administration (Horizon Justice Rhône, Lyon)",
    ),
    DemoAccount(
        "parrain", "Philippe", "Garnier", False, "acjs-33", "director",
        (RolePlan(Role.DIRECTOR),),
        ("Fonction de direction", "Coopération entre associations"),
        "Dirige l'ACJS 33 depuis 2009 ; accompagne volontiers les associations nouvellement adhérentes.",
        "directeur de l'association marraine de l'ALME 40 (ACJS 33, Bordeaux)",
    ),
    DemoAccount(
        "nouvel.adherent", "Sophie", "Labat", True, "alme-40", "director",
        (RolePlan(Role.DIRECTOR),),
        ("Médiation pénale",),
        "Directrice de l'ALME 40, association landaise qui vient de rejoindre la fédération.",
        "directrice d'une association nouvellement adhérente, parrainée par l'ACJS 33 (ALME 40, Mont-de-Marsan)",
    ),
    DemoAccount(
        "dica", "Nadia", "Benali", True, "amasj-57", "director",
        (RolePlan(Role.DIRECTOR), RolePlan(Role.DICA, region="nord-est")),
        ("Pré-sentenciel", "Coopération entre associations"),
        "Directrice de l'association mosellane et déléguée inter-cours d'appel pour le Nord-Est.",
        "DICA du Nord-Est, directrice (Association Mosellane d'Aide Socio-Judiciaire, Metz)",
    ),
    DemoAccount(
        "correspondant", "Yannick", "Le Goff", False, "arecj-35", "staff",
        (RolePlan(Role.MEMBER), RolePlan(Role.CORRESPONDENT, region="grand-ouest")),
        ("Justice des enfants et des adolescents",),
        "Chef de service, correspondant interrégional justice des enfants pour le Grand Ouest.",
        "correspondant interrégional du Grand Ouest (Rennes)",
    ),
    DemoAccount(
        "intervenant", "Karim", "Haddad", False, "horizon-justice-rhone", "staff",
        (RolePlan(Role.MEMBER),),
        (CJSE, "Enquêtes sociales rapides"),
        "Intervenant socio-judiciaire : contrôle judiciaire socio-éducatif et enquêtes sociales rapides "
        "au tribunal judiciaire de Lyon.",
        "intervenant socio-judiciaire (Horizon Justice Rhône, Lyon)",
    ),
    DemoAccount(
        "equipe", "Mathilde", "Roux", True, None, "federal",
        (RolePlan(Role.FEDERAL_STAFF),),
        ("Coopération entre associations", "Vie associative et conseils d'administration"),
        "Conseillère animation réseau à l'équipe fédérale : accueil des nouveaux adhérents, vie régionale, "
        "publication des guides et modération des forums.",
        "équipe fédérale : éditrice, modératrice, administratrice du site",
        True, True,
    ),
]
DEMO_JOB_TITLES = {
    "correspondant": "Chef de service",
    "intervenant": "Intervenant socio-judiciaire",
    "equipe": "Conseillère animation réseau",
}

# The federation's own team, in Bordeaux (no association): (title, female, expertise, bio).
FEDERAL_TEAM: list[tuple[str, bool, tuple[str, ...], str]] = [
    ("Déléguée générale", True, ("Fonction de direction", "Financement"),
     "Dirige l'équipe fédérale et représente la fédération auprès du ministère de la Justice."),
    ("Conseillère technique", True, ("Justice des enfants et des adolescents", "Pré-sentenciel"),
     "Conseillère technique justice des enfants et pré-sentenciel ; rédige les fiches techniques du réseau."),
    ("Conseiller technique", False, ("Post-sentenciel", "Placement à l'extérieur"),
     "Conseiller technique post-sentenciel ; travaille avec les correspondants interrégionaux."),
    ("Chargée de communication et de documentation", True, ("Coopération entre associations",),
     "Fait vivre la bibliothèque d'outils et la lettre d'information du réseau."),
    ("Responsable administratif et financier", False, ("Financement", "Fonctions support, RH et juridique"),
     "Suit les conventions et les financements de la fédération ; appui aux associations sur la tarification."),
]

# Referents: one person per theme, and for the measures the commissions work on most.
REFERENT_THEMES: list[str] = TOPICS + [
    CJSE, "Médiation pénale", "Placement à l'extérieur", "Accompagnement des auteurs de violences conjugales",
]


# --- Helpers -------------------------------------------------------------------------------------------





def join_fr(items: Sequence[str]) -> str:
    """ "a", "a et b", "a, b et c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} et {items[-1]}"


def landline(rng: random.Random, departement: str) -> str:
    """A French landline for the département (overseas ones included)."""
    if departement == "988":
        return f"+687 {rng.randint(20, 29)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    if departement == "987":
        return f"+689 40 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    prefix = PHONE_PREFIX[departement]
    pairs = (10 - len(prefix.replace(" ", ""))) // 2
    return " ".join([prefix, *(f"{rng.randint(10, 99)}" for _ in range(pairs))])


def mobile(rng: random.Random) -> str:
    return f"0{rng.choice('67')} " + " ".join(f"{rng.randint(10, 99)}" for _ in range(4))


def _chunks(items: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class _NameBook:
    """Hands out French identities with usernames unique across the whole plan."""

    def __init__(self, used: set[str]):
        self.used = used

    def username(self, first_name: str, last_name: str) -> str:
        base = f"{slugify(first_name)}.{slugify(last_name)}"
        candidate, n = base, 2
        while candidate in self.used:
            candidate, n = f"{base}{n}", n + 1
        self.used.add(candidate)
        return candidate

    def identity(self, rng: random.Random, female: bool | None = None) -> tuple[str, str, bool, str]:
        """(first name, last name, female, username)."""
        if female is None:
            female = rng.random() < 0.62  # the sector's teams are mostly women
        first = rng.choice(FEMALE_FIRST_NAMES if female else MALE_FIRST_NAMES)
        last = rng.choice(LAST_NAMES)
        return first, last, female, self.username(first, last)


def _association_plan(
    rng: random.Random,
    *,
    slug: str,
    name: str,
    city: str,
    staff: int,
    status: str,
    admitted_days_ago: int | None,
    sponsor: bool,
    domain: str,
) -> AssociationPlan:
    """Fill in everything about an association from its name, city, size and status."""
    postal_code, departement = LOCALITIES[city]
    cour = CITY_COUR[city]
    neighbours = [c for c in JURIDICTIONS[cour] if c != city]
    extra = rng.randint(0, min(len(neighbours), 3 if staff >= 50 else 2))
    served = [city, *rng.sample(neighbours, extra)]
    measures = rng.sample(MEASURES, rng.randint(2, 5))
    if CJSE not in measures and rng.random() < 0.6:
        measures[0] = CJSE
    topics = rng.sample(TOPICS, rng.randint(2, 4))
    if status == Association.Status.CANDIDATE:
        admitted_on = None
    elif admitted_days_ago is not None:
        admitted_on = REFERENCE_DATE - timedelta(days=admitted_days_ago)
    else:
        admitted_on = REFERENCE_DATE - timedelta(days=rng.randint(3 * 365, 35 * 365))
    founded = rng.randint(1972, 2012)
    if admitted_on is not None:
        founded = min(founded, admitted_on.year)
    template = rng.choice(DESCRIPTIONS)
    description = template.format(
        name=name, founded=founded, de_cour=de(cour), de_city=de(city), staff=staff,
        measures=join_fr([MEASURE_PHRASES[m] for m in measures]), topic=topics[0],
    )
    return AssociationPlan(
        slug=slug,
        name=name,
        address=f"{rng.randint(1, 140)} {rng.choice(STREETS)}",
        postal_code=postal_code,
        city=city,
        departement=departement,
        region=slugify(COUR_REGION[cour]),
        juridictions=sorted(slugify(f"tj-{c}") for c in served),
        staff_count=staff,
        themes=sorted(theme_slug(t) for t in measures + topics),
        admitted_on=admitted_on,
        status=status,
        website=f"https://www.{domain}",
        public_email=f"contact@{domain}",
        public_phone=landline(rng, departement),
        description=description,
        willing_to_sponsor=sponsor,
    )


def _team_size(association: AssociationPlan) -> int:
    """How many staff members (besides direction and board) the demo lists for an association."""
    if association.status == Association.Status.CANDIDATE:
        return 0
    if association.status == Association.Status.FORMER:
        return 1
    band = SizeBand.for_staff_count(association.staff_count)
    return {SizeBand.SMALL: 1, SizeBand.MEDIUM: 2, SizeBand.LARGE: 3, SizeBand.XLARGE: 4}[band]


def _person(
    rng: random.Random,
    names: _NameBook,
    association: AssociationPlan,
    kind: str,
    domain: str,
) -> PersonPlan:
    """A generated person of `association`: kind is "director", "president", "head" or "staff"."""
    first, last, female, username = names.identity(rng)
    year = REFERENCE_DATE.year - rng.randint(1, 18)
    city = association.city
    measure_slugs = [s for s in association.themes if s in _MEASURE_NAMES]
    measure = rng.choice(measure_slugs) if measure_slugs else theme_slug(CJSE)
    if kind == "director":
        title, roles, bio = DIRECTOR_TITLE, [RolePlan(Role.DIRECTOR)], rng.choice(DIRECTOR_BIOS)
        expertise = [theme_slug("Fonction de direction"), *rng.sample(association.themes, 1)]
    elif kind == "president":
        title, roles, bio = PRESIDENT_TITLE, [RolePlan(Role.PRESIDENT)], rng.choice(PRESIDENT_BIOS)
        expertise = [theme_slug("Vie associative et conseils d'administration")]
    else:
        title = HEAD_OF_SERVICE_TITLE if kind == "head" else rng.choice(STAFF_TITLES)
        roles, bio = [RolePlan(Role.MEMBER)], rng.choice(STAFF_BIOS)
        expertise = sorted({measure, *rng.sample(association.themes, rng.randint(0, 2))})
    bio = bio.format(year=year, de_city=de(city), measure=MEASURE_PHRASES[_MEASURE_NAMES[measure]])
    phone = "" if rng.random() < 0.15 else (mobile(rng) if rng.random() < 0.5 else association.public_phone)
    return PersonPlan(
        username=username,
        first_name=first,
        last_name=last,
        email=f"{slugify(first)}.{slugify(last)}@{domain}",
        association=association.slug,
        job_title=title[0] if female else title[1],
        roles=roles,
        bio=bio,
        phone=phone,
        contact_visible_to_members=rng.random() >= 0.15,
        expertise=sorted(set(expertise)),
    )



def _team(
    rng: random.Random,
    names: _NameBook,
    association: AssociationPlan,
    domain: str,
    *,
    skip: Iterable[str] = (),
) -> list[PersonPlan]:
    """Director, board president and staff of an association, minus the slots in `skip`."""
    skip = set(skip)
    people = [_person(rng, names, association, kind, domain) for kind in ("director", "president") if kind not in skip]
    for index in range(_team_size(association)):
        kind = "head" if index == 0 and association.staff_count >= 10 else "staff"
        people.append(_person(rng, names, association, kind, domain))
    return people


def _add_role(person: PersonPlan, role: RolePlan) -> None:
    if role not in person.roles:
        person.roles.append(role)
    if role.theme and role.theme not in person.expertise:
        person.expertise = sorted([*person.expertise, role.theme])


def _demo_person(account: DemoAccount, associations: dict[str, AssociationPlan]) -> PersonPlan:
    association = associations.get(account.association) if account.association else None
    if account.slot == "director":
        title = DIRECTOR_TITLE[0] if account.female else DIRECTOR_TITLE[1]
    elif account.slot == "president":
        title = PRESIDENT_TITLE[0] if account.female else PRESIDENT_TITLE[1]
    else:
        title = DEMO_JOB_TITLES[account.username]
    domain = association.public_email.split("@")[1] if association else FEDERATION_DOMAIN
    return PersonPlan(
        username=account.username,
        first_name=account.first_name,
        last_name=account.last_name,
        email=f"{slugify(account.first_name)}.{slugify(account.last_name)}@{domain}",
        association=account.association,
        job_title=title,
        roles=list(account.roles),
        bio=account.bio,
        phone=association.public_phone if association else "05 56 00 12 34",
        expertise=sorted(theme_slug(t) for t in account.expertise),
        is_staff=account.is_staff,
        is_superuser=account.is_superuser,
        demo=account.summary,
    )


def _core_plan(names: _NameBook) -> DirectoryPlan:
    """The scale-1 network: hand-written associations, their teams, the federation and its roles."""
    rng = random.Random(SEED)
    associations = [
        _association_plan(
            rng, slug=a.slug, name=a.name, city=a.city, staff=a.staff, status=a.status,
            admitted_days_ago=a.admitted_days_ago, sponsor=a.sponsor, domain=f"{a.slug}.exemple.fr",
        )
        for a in CORE_ASSOCIATIONS
    ]
    by_slug = {a.slug: a for a in associations}
    for slug, days in RECENT_ADMISSIONS.items():
        by_slug[slug].admitted_on = REFERENCE_DATE - timedelta(days=days)
    demo_slots = {(d.association, d.slot) for d in DEMO_ACCOUNTS}
    people: list[PersonPlan] = []
    demo_people = {d.username: _demo_person(d, by_slug) for d in DEMO_ACCOUNTS}
    for association in associations:
        skip = {slot for slug, slot in demo_slots if slug == association.slug}
        domain = association.public_email.split("@")[1]
        people.extend(_team(rng, names, association, domain, skip=skip))
        people.extend(p for p in demo_people.values() if p.association == association.slug)

    federal: list[PersonPlan] = []
    for title, female, expertise, bio in FEDERAL_TEAM:
        first, last, female, username = names.identity(rng, female)
        federal.append(PersonPlan(
            username=username, first_name=first, last_name=last,
            email=f"{slugify(first)}.{slugify(last)}@{FEDERATION_DOMAIN}", association=None, job_title=title,
            roles=[RolePlan(Role.FEDERAL_STAFF)], bio=bio, phone=f"05 56 00 12 {40 + len(federal)}",
            expertise=sorted(theme_slug(t) for t in expertise), is_staff=True,
        ))
    federal.append(demo_people["equipe"])
    people.extend(federal)

    # National and regional roles go to people of member associations; demo accounts keep theirs.
    status = {a.slug: a.status for a in associations}
    region = {a.slug: a.region for a in associations}

    def pool(kind: str, region_slug: str | None = None) -> list[PersonPlan]:
        return [
            p for p in people
            if not p.demo and p.association and status[p.association] == Association.Status.MEMBER
            and (region_slug is None or region[p.association] == region_slug)
            and any(r.role == kind for r in p.roles)
        ]

    for region_name in REGIONS:
        region_slug = slugify(region_name)
        if not any(r.role == Role.DICA and r.region == region_slug for p in people for r in p.roles):
            for person in rng.sample(pool(Role.DIRECTOR, region_slug), 1):
                _add_role(person, RolePlan(Role.DICA, region=region_slug))
        wanted = 2 - sum(
            1 for p in people for r in p.roles if r.role == Role.CORRESPONDENT and r.region == region_slug
        )
        candidates = pool(Role.MEMBER, region_slug) or pool(Role.DIRECTOR, region_slug)
        themes = ["Justice des enfants et des adolescents", "Post-sentenciel"][2 - wanted:] if wanted > 0 else []
        for person, theme in zip(rng.sample(candidates, len(themes)), themes, strict=True):
            _add_role(person, RolePlan(Role.CORRESPONDENT, region=region_slug))
            person.expertise = sorted({*person.expertise, theme_slug(theme)})

    experts = pool(Role.DIRECTOR) + pool(Role.MEMBER)
    for person, theme in zip(rng.sample(experts, len(REFERENT_THEMES)), REFERENT_THEMES, strict=True):
        _add_role(person, RolePlan(Role.REFERENT, theme=theme_slug(theme)))

    board = rng.sample(pool(Role.PRESIDENT), 8) + rng.sample(pool(Role.DIRECTOR), 4)
    for index, person in enumerate(board):
        _add_role(person, RolePlan(Role.BOARD_ADMIN))
        if index % 2 == 0 and index < 10:
            _add_role(person, RolePlan(Role.MEMBERSHIP_COMMISSION))

    advisers = [p for p in federal if p.job_title.startswith("Conseill")]
    for index, group in enumerate(WORKING_GROUPS):
        members = rng.sample(experts + pool(Role.PRESIDENT), 6) + [advisers[index % len(advisers)]]
        for person in members:
            _add_role(person, RolePlan(Role.WORKING_GROUP_MEMBER, working_group=group.slug))

    parrainages = [
        (parrain, filleul, by_slug[filleul].admitted_on + timedelta(days=14))
        for parrain, filleul in CORE_PARRAINAGES
    ]
    return DirectoryPlan(
        working_groups=list(WORKING_GROUPS), associations=associations, people=people, parrainages=parrainages
    )


def _generated_localities() -> list[tuple[str, str]]:
    """Every (name, city) the name patterns give, each name once, in a fixed shuffled order."""
    seen: set[str] = set()
    result: list[tuple[str, str]] = []
    for pattern in GENERATED_NAME_PATTERNS:
        for city in ALL_CITIES:
            name = pattern.format(city=city, de_city=de(city), de_dep=DEPARTEMENTS[LOCALITIES[city][1]])
            if name not in seen:
                seen.add(name)
                result.append((name, city))
    random.Random(SEED + 1).shuffle(result)
    return result


def _generated_copy(
    copy: int,
    localities: Sequence[tuple[str, str]],
    names: _NameBook,
    used_slugs: set[str],
) -> tuple[list[AssociationPlan], list[PersonPlan]]:
    """More associations with their teams, for benchmarks (copy 2, 3… of the network's size).

    `localities` are the (name, city) of this copy's associations; past the patterns' supply a name
    comes back with an "antenne" number.
    """
    rng = random.Random(SEED * 1000 + copy)
    associations: list[AssociationPlan] = []
    people: list[PersonPlan] = []
    for name, city in localities:
        slug = slugify(name)[:190].strip("-")
        base_slug, n = slug, 2
        while slug in used_slugs:
            slug, n = f"{base_slug}-{n}", n + 1
        used_slugs.add(slug)
        roll = rng.random()
        status = _FORMER if roll < 0.04 else _CANDIDATE if roll < 0.07 else Association.Status.MEMBER
        band = rng.choices([(4, 9), (10, 49), (50, 149), (150, 260)], weights=[30, 45, 18, 7])[0]
        domain = f"{slug[:40].strip('-')}.exemple.fr"
        association = _association_plan(
            rng, slug=slug, name=name, city=city, staff=rng.randint(*band), status=status,
            admitted_days_ago=None, sponsor=rng.random() < 0.15, domain=domain,
        )
        associations.append(association)
        team = _team(rng, names, association, domain)
        for person in team:
            if Role.MEMBER in {r.role for r in person.roles} and rng.random() < 0.05:
                group = rng.choice(WORKING_GROUPS)
                _add_role(person, RolePlan(Role.WORKING_GROUP_MEMBER, working_group=group.slug))
        people.extend(team)
    return associations, people


def build_directory_plan(scale: int = 1) -> DirectoryPlan:
    """Everything the directory demo holds at `scale`, computed without the database.

    Deterministic: fixed seeds and REFERENCE_DATE only. Scale N adds N-1 generated copies of the core
    network's size; the plan at scale N is a prefix of the plan at any larger scale.
    """
    if scale < 1:
        raise ValueError("L'échelle doit être un entier supérieur ou égal à 1.")
    names = _NameBook({d.username for d in DEMO_ACCOUNTS})
    plan = _core_plan(names)
    core_names = {a.name for a in plan.associations}
    supply = [(name, city) for name, city in _generated_localities() if name not in core_names]
    used_slugs = {a.slug for a in plan.associations}
    count = len(CORE_ASSOCIATIONS)
    for copy in range(2, scale + 1):
        start = (copy - 2) * count
        localities = [
            (name if index < len(supply) else f"{name} – antenne {index // len(supply) + 1}", city)
            for index in range(start, start + count)
            for name, city in [supply[index % len(supply)]]
        ]
        associations, people = _generated_copy(copy, localities, names, used_slugs)
        plan.extra_associations.extend(associations)
        plan.extra_people.extend(people)
    return plan


# --- Applying the plan ---------------------------------------------------------------------------------

class _References:
    """Rows the plan refers to by slug, loaded once."""

    def __init__(self) -> None:
        self.regions = {r.slug: r for r in Region.objects.all()}
        self.cours = {c.slug: c for c in CourDAppel.objects.all()}
        self.juridictions = {j.slug: j for j in Juridiction.objects.all()}
        self.themes = {t.slug: t for t in Theme.objects.all()}
        self.working_groups = {w.slug: w for w in WorkingGroup.objects.all()}
        self.region_ids = {slug: r.pk for slug, r in self.regions.items()}

    def role_spec(self, role: RolePlan) -> RoleSpec:
        return RoleSpec(
            role.role,
            region=self.regions[role.region] if role.region else None,
            theme=self.themes[role.theme] if role.theme else None,
            working_group=self.working_groups[role.working_group] if role.working_group else None,
        )

    def role_key(self, role: RolePlan) -> tuple[str, int | None, int | None, int | None]:
        return (
            role.role,
            self.regions[role.region].pk if role.region else None,
            self.themes[role.theme].pk if role.theme else None,
            self.working_groups[role.working_group].pk if role.working_group else None,
        )


def _apply_working_groups(plans: Iterable[WorkingGroupPlan], refs: _References) -> None:
    for plan in plans:
        group, _created = WorkingGroup.objects.update_or_create(
            slug=plan.slug,
            defaults={"name": plan.name, "description": plan.description, "theme": refs.themes[plan.theme]},
        )
        refs.working_groups[group.slug] = group


def _apply_core_associations(plans: Iterable[AssociationPlan], refs: _References) -> dict[str, Association]:
    """Create or update the core associations, their coverage and their themes."""
    result: dict[str, Association] = {}
    for plan in plans:
        # size_band stays in the defaults: update_or_create saves only the fields it is given.
        values = plan.field_values(refs.region_ids)
        association, _created = Association.objects.update_or_create(slug=plan.slug, defaults=values)
        services.set_coverage(association, [refs.juridictions[s] for s in plan.juridictions])
        association.themes.set([refs.themes[s] for s in plan.themes])
        result[plan.slug] = association
    return result


def _apply_core_people(plans: Iterable[PersonPlan], associations: dict[str, Association], refs: _References) -> None:
    """Create or update each person through the directory services, so groups follow their roles."""
    plans = list(plans)
    association_ids = {slug: a.pk for slug, a in associations.items()}
    existing = {
        u.username: u
        for u in User.objects.filter(username__in=[p.username for p in plans]).prefetch_related("expertise")
    }
    for plan in plans:
        association = associations[plan.association] if plan.association else None
        specs = [refs.role_spec(r) for r in plan.roles]
        expertise = [refs.themes[s] for s in plan.expertise]
        user = existing.get(plan.username)
        if user is None:
            services.create_person(
                username=plan.username,
                first_name=plan.first_name,
                last_name=plan.last_name,
                email=plan.email,
                association=association,
                job_title=plan.job_title,
                roles=specs,
                # Only demo accounts can log in; hashing a password per generated person would be slow.
                password=DEMO_PASSWORD if plan.demo else None,
                bio=plan.bio,
                phone=plan.phone,
                contact_visible_to_members=plan.contact_visible_to_members,
                expertise=expertise,
                is_staff=plan.is_staff,
                is_superuser=plan.is_superuser,
            )
            continue
        values = plan.field_values(association_ids)
        values.pop("association_id")  # moving a person goes through services.move_person
        changed = [name for name, value in values.items() if getattr(user, name) != value]
        for name in changed:
            setattr(user, name, values[name])
        if plan.demo and not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            changed.append("password")
        if changed:
            user.save(update_fields=changed)
        if {t.pk for t in user.expertise.all()} != {t.pk for t in expertise}:
            user.expertise.set(expertise)
        if user.association_id != (association.pk if association else None):
            services.move_person(user, association)
        services.set_roles(user, specs)


def _apply_parrainages(plans: Iterable[tuple[str, str, date]], associations: dict[str, Association]) -> None:
    for parrain, filleul, started_on in plans:
        parrainage_services.start_parrainage(associations[parrain], associations[filleul], started_on=started_on)


def _apply_parrainage_journey(associations: dict[str, Association]) -> None:
    """A proposal awaiting an answer, a declined one, and the new adherent's first onboarding steps.

    Written through parrainage.services (the commission's choice by the `equipe` account, the
    parrain's answer by its director), without e-mails; each step is skipped when already there.
    """
    people = {u.username: u for u in User.objects.filter(username__in=["equipe", "parrain", "nouvel.adherent"])}
    commission = people.get("equipe")
    if commission is None:
        return
    with parrainage_services.notices_muted():
        for parrain, filleul in PROPOSED_PARRAINAGES:
            if not Parrainage.objects.filter(filleul=associations[filleul]).exists():
                parrainage_services.choose_parrain(commission, associations[filleul], associations[parrain],
                                                   today=REFERENCE_DATE)
        for parrain, filleul, reason in DECLINED_PARRAINAGES:
            if Parrainage.objects.filter(filleul=associations[filleul]).exists():
                continue
            proposal = parrainage_services.choose_parrain(commission, associations[filleul], associations[parrain],
                                              today=REFERENCE_DATE)
            director = parrainage_contacts.first_director(associations[parrain].pk)
            if director is not None:
                parrainage_services.respond(director, proposal, accept=False, reason=reason, today=REFERENCE_DATE)
        for parrain, filleul in CORE_PARRAINAGES:
            active = Parrainage.objects.filter(parrain=associations[parrain], filleul=associations[filleul],
                                               status=Parrainage.Status.ACTIVE).first()
            if active is None or active.started_on is None or filleul != "alme-40":
                continue
            done = dict(active.steps.values_list("step", "done_on"))
            for step, days, username in ONBOARDING_DONE:
                done_on = active.started_on + timedelta(days=days)
                if done.get(step) != done_on and username in people:
                    parrainage_services.tick(people[username], active, step, done_on)


def _sync_links(
    through,
    owner_field: str,
    target_field: str,
    wanted: dict[int, set[int]],
    removable: set[int] | None = None,
) -> None:
    """Make the rows of a many-to-many table for these owners exactly `wanted`, in few queries.

    Rows pointing at targets outside `removable` (when given) are left alone: the bulk group sync
    must not remove groups this project does not manage.
    """
    owners = list(wanted)
    existing: set[tuple[int, int]] = set()
    for chunk in _chunks(owners):
        existing.update(through.objects.filter(**{f"{owner_field}__in": chunk}).values_list(owner_field, target_field))
    wanted_pairs = {(owner, target) for owner, targets in wanted.items() for target in targets}
    stale = [pair for pair in existing - wanted_pairs if removable is None or pair[1] in removable]
    stale_by_owner: dict[int, list[int]] = {}
    for owner, target in stale:
        stale_by_owner.setdefault(owner, []).append(target)
    for owner, targets in stale_by_owner.items():
        through.objects.filter(**{owner_field: owner, f"{target_field}__in": targets}).delete()
    missing = sorted(wanted_pairs - existing)
    through.objects.bulk_create(
        [through(**{owner_field: owner, target_field: target}) for owner, target in missing], batch_size=CHUNK
    )


def _bulk_apply_associations(plans: Sequence[AssociationPlan], refs: _References) -> dict[str, Association]:
    """The generated associations in bulk: same columns and links as the core path writes."""
    fields = list(plans[0].field_values(refs.region_ids)) if plans else []
    existing: dict[str, Association] = {}
    for chunk in _chunks([p.slug for p in plans]):
        existing.update({a.slug: a for a in Association.objects.filter(slug__in=chunk)})
    to_create, to_update = [], []
    for plan in plans:
        values = plan.field_values(refs.region_ids)
        association = existing.get(plan.slug)
        if association is None:
            to_create.append(Association(slug=plan.slug, **values))
        elif any(getattr(association, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(association, name, value)
            to_update.append(association)
    Association.objects.bulk_create(to_create, batch_size=CHUNK)
    if to_update:
        Association.objects.bulk_update(to_update, fields, batch_size=CHUNK)
    by_slug: dict[str, Association] = {}
    for chunk in _chunks([p.slug for p in plans]):
        by_slug.update({a.slug: a for a in Association.objects.filter(slug__in=chunk)})

    juridictions, cours, themes = {}, {}, {}
    for plan in plans:
        pk = by_slug[plan.slug].pk
        served = [refs.juridictions[s] for s in plan.juridictions]
        juridictions[pk] = {j.pk for j in served}
        cours[pk] = {j.cour_id for j in served}  # as services.set_coverage derives them
        themes[pk] = {refs.themes[s].pk for s in plan.themes}
    _sync_links(Association.juridictions.through, "association_id", "juridiction_id", juridictions)
    _sync_links(Association.cours.through, "association_id", "courdappel_id", cours)
    _sync_links(Association.themes.through, "association_id", "theme_id", themes)
    return by_slug


def _planned_group_keys(
    user: User, plan: PersonPlan, association: Association | None, refs: _References
) -> set[str]:
    """The group keys `access.group_keys` gives this person, computed from the plan without queries.

    The access module is asked itself, with the profile it would load from the database built
    from the plan instead, so the rule book stays in one place.
    """
    scoped = [r for r in plan.roles if r.role in REGION_SCOPED and r.region]
    groups = [refs.working_groups[r.working_group] for r in plan.roles if r.working_group]
    profile = access.AccessProfile(
        is_authenticated=True,
        is_active=True,
        is_superuser=plan.is_superuser,
        association_id=association.pk if association else None,
        association_status=association.status if association else None,
        association_region_id=association.region_id if association else None,
        roles=frozenset(r.role for r in plan.roles),
        scoped_region_ids=frozenset(refs.regions[r.region].pk for r in scoped),
        working_group_ids=frozenset(g.pk for g in groups),
        working_group_slugs=frozenset(g.slug for g in groups),
        theme_slugs=frozenset(r.theme for r in plan.roles if r.theme),
    )
    setattr(user, access._PROFILE_ATTR, profile)
    try:
        return access.group_keys(user)
    finally:
        access.forget(user)


def _bulk_apply_people(
    plans: Sequence[PersonPlan], associations: dict[str, Association], refs: _References
) -> None:
    """The generated people in bulk: columns, expertise, roles and the groups derived from them."""
    association_ids = {slug: a.pk for slug, a in associations.items()}
    existing: dict[str, User] = {}
    for chunk in _chunks([p.username for p in plans]):
        existing.update({u.username: u for u in User.objects.filter(username__in=chunk)})
    to_create, to_update, fields = [], [], set()
    for plan in plans:
        values = plan.field_values(association_ids)
        user = existing.get(plan.username)
        if user is None:
            user = User(username=plan.username, **values)
            user.set_unusable_password()
            to_create.append(user)
            continue
        changed = [name for name, value in values.items() if getattr(user, name) != value]
        if changed:
            for name in changed:
                setattr(user, name, values[name])
            fields.update(changed)
            to_update.append(user)
    User.objects.bulk_create(to_create, batch_size=CHUNK)
    if to_update:
        User.objects.bulk_update(to_update, sorted(fields), batch_size=CHUNK)
    users: dict[str, User] = {}
    for chunk in _chunks([p.username for p in plans]):
        users.update({u.username: u for u in User.objects.filter(username__in=chunk)})

    expertise = {users[p.username].pk: {refs.themes[s].pk for s in p.expertise} for p in plans}
    _sync_links(User.expertise.through, "user_id", "theme_id", expertise)

    # Role assignments: keep matching rows, delete the others, add the missing ones.
    wanted = {users[p.username].pk: {refs.role_key(r) for r in p.roles} for p in plans}
    stale, present = [], set()
    for chunk in _chunks(list(wanted)):
        rows = RoleAssignment.objects.filter(user_id__in=chunk).values_list(
            "pk", "user_id", "role", "region_id", "theme_id", "working_group_id"
        )
        for pk, user_id, *key in rows:
            if tuple(key) in wanted[user_id]:
                present.add((user_id, *key))
            else:
                stale.append(pk)
    for chunk in _chunks(stale):
        RoleAssignment.objects.filter(pk__in=chunk).delete()
    RoleAssignment.objects.bulk_create(
        [
            RoleAssignment(user_id=user_id, role=role, region_id=region, theme_id=theme, working_group_id=group)
            for user_id, keys in wanted.items()
            for role, region, theme, group in sorted(keys, key=str)
            if (user_id, role, region, theme, group) not in present
        ],
        batch_size=CHUNK,
    )

    by_pk = {a.pk: a for a in associations.values()}
    group_keys = {
        users[p.username].pk: _planned_group_keys(
            users[p.username], p, by_pk.get(association_ids.get(p.association)), refs
        )
        for p in plans
    }
    all_keys = set().union(*group_keys.values()) if group_keys else set()
    group_ids = {key: group.pk for key, group in directory_groups.groups_for_keys(all_keys).items()}
    _sync_links(
        User.groups.through,
        "user_id",
        "group_id",
        {user_id: {group_ids[k] for k in keys} for user_id, keys in group_keys.items()},
        removable=directory_groups.managed_group_ids(),
    )


# --- Membership applications (issue 7) -----------------------------------------------------------------

class DemoDocument(NamedTuple):
    """A document a demo candidate uploads: file name, title and lines of text."""

    filename: str
    title: str
    lines: tuple[str, ...]


class ApplicationStep(NamedTuple):
    """One step of a demo application's history; each writes exactly one entry of its log.

    `action`: "start", "submit", "examine", "comment", "ask", "answer" or "decide" (the
    membership.services function it calls). `by`: "equipe" or "commission" (the first member of
    the membership commission). `choice`: a comment's opinion or a decision's outcome.
    """

    action: str
    days_before: int  # before REFERENCE_DATE
    at: str  # "HH:MM", Paris time
    by: str = ""
    text: str = ""
    choice: str = ""
    attachment: DemoDocument | None = None


class DemoApplication(NamedTuple):
    key: str  # short and stable: web domain and private link
    siret: str
    name: str
    address: str
    city: str
    juridictions: tuple[str, ...]  # cities of the tribunaux judiciaires served
    themes: tuple[str, ...]  # theme and measure names
    staff: int
    president: tuple[str, str]
    director: tuple[str, str]
    motivation: str  # empty: not written yet
    with_activity_report: bool  # False: not uploaded yet
    status: str  # where the steps leave it
    steps: tuple[ApplicationStep, ...]


_Application = MembershipApplication.Status

# One application in each state the commission works with: a draft, one awaiting examination, one
# under examination (discussion, a question answered with a document) and one postponed.
DEMO_APPLICATIONS: list[DemoApplication] = [
    DemoApplication(
        "avme-85", "79145236800016", "AVME – Association Vendéenne de Médiation et d'Enquêtes",
        "8 rue Georges-Clemenceau", "La Roche-sur-Yon", ("La Roche-sur-Yon",),
        ("Médiation pénale", "Enquêtes sociales rapides", "Pré-sentenciel"), 6,
        ("Monique", "Guillou"), ("Antoine", "Pelletier"),
        "", False, _Application.DRAFT,
        (ApplicationStep("start", 4, "18:10"),),
    ),
    DemoApplication(
        "anasj-58", "80273641500018", "Association Nivernaise d'Aide Socio-Judiciaire",
        "15 rue du Commerce", "Nevers", ("Nevers",),
        (CJSE, "Enquêtes de personnalité", "Post-sentenciel", "Insertion des personnes placées sous main de justice"),
        17, ("Jean-Luc", "Perret"), ("Élise", "Marchetti"),
        "Nous mettons en œuvre le contrôle judiciaire socio-éducatif et les enquêtes de personnalité auprès du "
        "tribunal judiciaire de Nevers depuis 2004. Nous souhaitons rejoindre la fédération pour sortir de notre "
        "isolement, partager nos outils avec des associations comparables et participer aux réunions régionales.",
        True, _Application.SUBMITTED,
        (ApplicationStep("start", 9, "10:20"), ApplicationStep("submit", 6, "17:45")),
    ),
    DemoApplication(
        "aacj-08", "84130952700015", "Association Ardennaise de Contrôle Judiciaire",
        "3 place Ducale", "Charleville-Mézières", ("Charleville-Mézières",),
        (CJSE, "Enquêtes sociales rapides", "Pré-sentenciel", "Place des personnes accompagnées"),
        12, ("Hélène", "Vasseur"), ("Gaël", "Thiébaut"),
        "Association créée en 1991, nous intervenons sur le ressort du tribunal de Charleville-Mézières. Adhérer "
        "nous permettrait de bénéficier des fiches techniques du réseau et d'un parrainage pour structurer notre "
        "service d'enquêtes sociales rapides, ouvert cette année.",
        True, _Application.EXAMINING,
        (
            ApplicationStep("start", 34, "09:40"),
            ApplicationStep("submit", 31, "16:35"),
            ApplicationStep("examine", 24, "09:15", by="equipe"),
            ApplicationStep(
                "comment", 22, "14:05", by="commission", choice="reserve",
                text="Projet solide sur le contrôle judiciaire. La convention avec le tribunal arrive à échéance "
                     "en décembre : demandons où en est son renouvellement avant de nous prononcer.",
            ),
            ApplicationStep(
                "ask", 21, "10:30", by="equipe",
                text="Votre convention avec le tribunal judiciaire de Charleville-Mézières arrive à échéance en "
                     "décembre : où en est son renouvellement ? Pouvez-vous nous transmettre le courrier du "
                     "parquet si vous l'avez reçu ?",
            ),
            ApplicationStep(
                "answer", 15, "11:20",
                text="La convention a été renouvelée pour trois ans le 28 août, à compter du 1er septembre. Vous "
                     "trouverez ci-joint le courrier du procureur de la République.",
                attachment=DemoDocument(
                    "courrier-parquet.pdf", "Renouvellement de la convention",
                    ("Le procureur de la République près le tribunal judiciaire de Charleville-Mézières",
                     "confirme le renouvellement, pour une durée de trois ans à compter du 1er septembre 2025,",
                     "de la convention relative au contrôle judiciaire socio-éducatif et aux enquêtes",
                     "sociales rapides confiés à l'Association Ardennaise de Contrôle Judiciaire."),
                ),
            ),
            ApplicationStep(
                "comment", 13, "17:05", by="equipe", choice="favorable",
                text="Réponse complète : la convention court jusqu'en 2028. Le dossier peut passer à la prochaine "
                     "séance de la commission.",
            ),
        ),
    ),
    DemoApplication(
        "agm-05", "77364189200023", "Association Gapençaise de Médiation",
        "22 rue Carnot", "Gap", ("Gap",),
        ("Médiation pénale", "Stage de citoyenneté", "Justice des enfants et des adolescents"), 4,
        ("Robert", "Arnaud"), ("Laetitia", "Borel"),
        "Petite équipe de médiateurs pénaux dans les Hautes-Alpes, nous cherchons l'appui d'un réseau pour "
        "développer les stages de citoyenneté et échanger avec d'autres associations de montagne.",
        True, _Application.POSTPONED,
        (
            ApplicationStep("start", 80, "15:00"),
            ApplicationStep("submit", 76, "11:10"),
            ApplicationStep("examine", 66, "09:30", by="equipe"),
            ApplicationStep(
                "comment", 63, "18:20", by="commission", choice="reserve",
                text="Les statuts transmis datent de 1998 et ne mentionnent pas l'intervention socio-judiciaire ; "
                     "l'association les révise en ce moment.",
            ),
            ApplicationStep(
                "decide", 49, "16:00", by="commission", choice=_Application.POSTPONED,
                text="Les statuts en vigueur ne prévoient pas l'intervention socio-judiciaire. La commission "
                     "réexaminera la candidature quand l'assemblée générale de novembre aura adopté les statuts "
                     "révisés : il suffira de nous les transmettre.",
            ),
        ),
    ),
]


def demo_application_token(plan: DemoApplication) -> str:
    """The demo application's private link token: fixed, so that the summary can print the link."""
    return f"demo-candidature-{plan.key}"


def demo_application_links() -> list[tuple[str, str]]:
    """(path of the private link, French description) of every demo application."""
    return [
        (membership.follow_path(demo_application_token(plan)),
         f"{plan.name} ({str(_Application(plan.status).label).lower()})")
        for plan in DEMO_APPLICATIONS
    ]


def _pdf_literal(text: str) -> bytes:
    raw = text.encode("cp1252", "replace")  # the encoding of the standard fonts' WinAnsiEncoding
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def demo_pdf(title: str, lines: Sequence[str]) -> bytes:
    """A one-page A4 PDF with a title and lines of text (Helvetica), cross-reference table included."""
    ops = [b"BT", b"/F1 15 Tf", b"56 780 Td", _pdf_literal(title) + b" Tj", b"/F1 10 Tf", b"0 -30 Td"]
    for line in lines:
        ops += [_pdf_literal(line) + b" Tj", b"0 -15 Td"]
    ops.append(b"ET")
    stream = b"\n".join(ops)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


_ODT_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.2">\n'
    ' <manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
    'manifest:media-type="application/vnd.oasis.opendocument.text"/>\n'
    ' <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>\n'
    '</manifest:manifest>\n'
)


def demo_odt(title: str, paragraphs: Sequence[str]) -> bytes:
    """An OpenDocument text with a heading and paragraphs; the same text gives the same bytes."""
    body = f'<text:h text:outline-level="1">{xml_escape(title)}</text:h>' + "".join(
        f"<text:p>{xml_escape(paragraph)}</text:p>" for paragraph in paragraphs
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:text>{body}</office:text></office:body></office:document-content>\n"
    )
    stamp = (REFERENCE_DATE.year, REFERENCE_DATE.month, REFERENCE_DATE.day, 0, 0, 0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # The mimetype entry comes first and uncompressed, as OpenDocument requires.
        archive.writestr(zipfile.ZipInfo("mimetype", stamp), membership.ODT_MIMETYPE, zipfile.ZIP_STORED)
        archive.writestr(zipfile.ZipInfo("META-INF/manifest.xml", stamp), _ODT_MANIFEST, zipfile.ZIP_DEFLATED)
        archive.writestr(zipfile.ZipInfo("content.xml", stamp), content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _pdf_upload(document: DemoDocument) -> SimpleUploadedFile:
    return SimpleUploadedFile(document.filename, demo_pdf(document.title, document.lines),
                              content_type="application/pdf")


def _statutes(plan: DemoApplication) -> SimpleUploadedFile:
    postal_code, _departement = LOCALITIES[plan.city]
    lines = [
        f"Article 1 – Dénomination : {plan.name}.",
        "Article 2 – Objet : l'association a pour objet l'accompagnement des personnes placées sous main",
        "de justice et la mise en œuvre des mesures confiées par l'autorité judiciaire.",
        f"Article 3 – Siège social : {plan.address}, {postal_code} {plan.city}.",
        "Article 4 – Membres : l'association se compose de membres actifs et de membres bienfaiteurs.",
        "Article 5 – Administration : l'association est administrée par un conseil d'administration",
        "élu pour trois ans par l'assemblée générale.",
    ]
    return _pdf_upload(DemoDocument("statuts.pdf", "Statuts", tuple(lines)))


def _activity_report(plan: DemoApplication) -> SimpleUploadedFile:
    measures = join_fr([MEASURE_PHRASES[t] for t in plan.themes if t in MEASURE_PHRASES])
    paragraphs = [
        f"{plan.name} compte {plan.staff} salarié·es au 31 décembre 2024.",
        f"Au cours de l'année, l'équipe a mis en œuvre {measures} sur le ressort du tribunal judiciaire "
        f"{de(plan.city)}.",
        "Les perspectives pour 2025 : consolider les partenariats avec le parquet et le SPIP, former l'équipe "
        "et rejoindre un réseau d'associations du secteur.",
    ]
    return SimpleUploadedFile("rapport-activite-2024.odt", demo_odt("Rapport d'activité 2024", paragraphs),
                              content_type="application/vnd.oasis.opendocument.text")


def _contact_email(plan: DemoApplication) -> str:
    return f"contact@{plan.key}.exemple.fr"


def _application_data(plan: DemoApplication) -> dict:
    """The candidate's first form, as membership.services.start_application takes it."""
    postal_code, departement = LOCALITIES[plan.city]
    domain = f"{plan.key}.exemple.fr"
    rng = random.Random(f"{SEED}-{plan.key}")

    def email(first: str, last: str) -> str:
        return f"{slugify(first)}.{slugify(last)}@{domain}"

    data = {
        "name": plan.name, "siret": plan.siret, "address": plan.address, "postal_code": postal_code,
        "city": plan.city, "departement": departement,
        "region": Region.objects.get(slug=slugify(COUR_REGION[CITY_COUR[plan.city]])),
        "juridictions": list(Juridiction.objects.filter(slug__in=[slugify(f"tj-{c}") for c in plan.juridictions])),
        "themes": list(Theme.objects.filter(slug__in=[theme_slug(t) for t in plan.themes])),
        "staff_count": plan.staff, "website": f"https://www.{domain}", "contact_email": _contact_email(plan),
        "president_first_name": plan.president[0], "president_last_name": plan.president[1],
        "president_email": email(*plan.president), "president_phone": landline(rng, departement),
        "director_first_name": plan.director[0], "director_last_name": plan.director[1],
        "director_email": email(*plan.director), "director_phone": mobile(rng),
        "motivation": plan.motivation, "statutes": _statutes(plan),
    }
    if plan.with_activity_report:
        data["activity_report"] = _activity_report(plan)
    return data


def _write_application(plan: DemoApplication, actors: dict[str, User]) -> MembershipApplication:
    """Walk the application through its steps with the services the candidate and commission use."""
    application, token = membership.start_application(_application_data(plan))
    requests: list[InformationRequest] = []
    for step in plan.steps[1:]:
        actor = actors.get(step.by)
        if step.action == "submit":
            membership.submit_application(application, token=token)
        elif step.action == "examine":
            membership.start_examination(application, actor)
        elif step.action == "comment":
            membership.add_comment(application, actor, step.text, step.choice)
        elif step.action == "ask":
            requests.append(membership.request_information(application, actor, step.text))
        elif step.action == "answer":
            attachment = _pdf_upload(step.attachment) if step.attachment else None
            membership.answer_information_request(application, requests[-1].pk, answer=step.text,
                                                  answer_file=attachment)
        elif step.action == "decide":
            membership.decide(application, actor, step.choice, step.text)
        else:
            raise ValueError(f"Unknown demo application step: {step.action}")
    return MembershipApplication.objects.get(pk=application.pk)


def _moment(step: ApplicationStep) -> datetime:
    day = REFERENCE_DATE - timedelta(days=step.days_before)
    return timezone.make_aware(datetime.combine(day, time.fromisoformat(step.at)))


def _date_application(application: MembershipApplication, plan: DemoApplication) -> None:
    """Dates from REFERENCE_DATE instead of the clock, and the fixed private link (as demo.chat dates
    its messages): a second run leaves the same rows."""
    moments = [_moment(step) for step in plan.steps]
    by_action = {step.action: moment for step, moment in zip(plan.steps, moments, strict=True)}
    MembershipApplication.objects.filter(pk=application.pk).update(
        created_at=moments[0], updated_at=moments[-1], submitted_at=by_action.get("submit"),
        decided_at=by_action.get("decide"),
        token_hash=membership.hash_token(demo_application_token(plan)),
    )
    events = list(application.events.order_by("pk"))
    for event, moment in zip(events, moments, strict=True):
        event.created_at = moment
    ApplicationEvent.objects.bulk_update(events, ["created_at"])
    asked = [[moment, None] for step, moment in zip(plan.steps, moments, strict=True) if step.action == "ask"]
    answers = iter(moment for step, moment in zip(plan.steps, moments, strict=True) if step.action == "answer")
    for dates, answered_at in zip(asked, answers, strict=False):
        dates[1] = answered_at
    requests = list(application.requests.order_by("pk"))
    for request, (asked_at, answered_at) in zip(requests, asked, strict=True):
        request.asked_at, request.answered_at = asked_at, answered_at
    InformationRequest.objects.bulk_update(requests, ["asked_at", "answered_at"])


def _discard_application(application: MembershipApplication) -> None:
    """Delete a demo application that no longer matches its plan, and its files once committed."""
    fields = [application.statutes, application.activity_report,
              *(request.answer_file for request in application.requests.all())]
    files = [(f.storage, f.name) for f in fields if f.name]
    application.delete()
    transaction.on_commit(lambda: _delete_files(files))


def _delete_files(files: Iterable[tuple[Storage, str]]) -> None:
    for storage, name in files:
        storage.delete(name)


def _matches(application: MembershipApplication, plan: DemoApplication) -> bool:
    """Whether the application is still what the plan writes: name, state, and one log entry per
    step carrying the step's text (the services prefix comments and decisions)."""
    events = list(application.events.all())
    return (
        application.name == plan.name and application.status == plan.status and len(events) == len(plan.steps)
        and all(step.text in event.message for step, event in zip(plan.steps, events, strict=True))
    )


def _application_actors() -> dict[str, User]:
    """`equipe` (federal staff) and the first member of the membership commission, by username."""
    actors = {u.username: u for u in User.objects.filter(username="equipe")}
    commission = (
        User.objects.filter(is_active=True, association__status=Association.Status.MEMBER,
                            role_assignments__role=Role.MEMBERSHIP_COMMISSION)
        .order_by("username").first()
    )
    if "equipe" in actors:
        actors["commission"] = commission or actors["equipe"]
    return actors


def membership_counts() -> dict[str, int]:
    """Membership applications now, in total and by status (for the command's summary)."""
    statuses = Counter(MembershipApplication.objects.values_list("status", flat=True))
    return {"applications": sum(statuses.values()), **{s: statuses.get(s, 0) for s in _Application.values}}


@transaction.atomic
def seed_membership(stdout: Writer | None = None) -> dict[str, int]:
    """The demo membership applications (DEMO_APPLICATIONS), written through membership.services.

    Each is found again by its SIRET and follow-up address: left as it is when its state and log
    are those of the plan, replaced otherwise (the commission pages may have moved it on). No
    e-mail is queued. Needs the directory demo (the `equipe` account examines).
    """
    actors = _application_actors()
    if "equipe" not in actors:
        return membership_counts()
    with membership.emails_muted():
        for plan in DEMO_APPLICATIONS:
            existing = list(
                MembershipApplication.objects.filter(siret=plan.siret, contact_email=_contact_email(plan))
                .prefetch_related(Prefetch("events", queryset=ApplicationEvent.objects.order_by("pk")))
                .order_by("pk")
            )
            kept = next((a for a in existing if _matches(a, plan)), None)
            for application in existing:
                if application is not kept:
                    _discard_application(application)
            _date_application(kept or _write_application(plan, actors), plan)
    if stdout is not None:
        stdout.write(f"Adhésions : {len(DEMO_APPLICATIONS)} candidatures de démonstration prêtes.")
    return membership_counts()


def demo_accounts() -> list[tuple[str, str]]:
    """(username, French description) of every demo account; they all use DEMO_PASSWORD."""
    return [(d.username, d.summary) for d in DEMO_ACCOUNTS]


def directory_counts() -> dict[str, int]:
    """What the directory holds now, for the command's summary."""
    statuses = Counter(Association.objects.values_list("status", flat=True))
    return {
        "associations": sum(statuses.values()),
        "members": statuses.get(Association.Status.MEMBER, 0),
        "candidates": statuses.get(Association.Status.CANDIDATE, 0),
        "former": statuses.get(Association.Status.FORMER, 0),
        "cours": CourDAppel.objects.filter(associations__isnull=False).distinct().count(),
        "regions": Region.objects.filter(associations__isnull=False).distinct().count(),
        "people": User.objects.count(),
        "working_groups": WorkingGroup.objects.count(),
        "parrainages": Parrainage.objects.filter(status=Parrainage.Status.ACTIVE).count(),
    }


@transaction.atomic
def seed_directory(scale: int = 1, stdout: Writer | None = None) -> dict[str, int]:
    """Create or update the directory demo at `scale`, in one transaction; returns its counts.

    Re-applies the reference data first. Idempotent: every row is keyed on a slug or a username,
    roles are replaced with `services.set_roles`, so a second run changes nothing but role rows.
    """
    load_reference_data(Region, CourDAppel, Juridiction, Theme)
    plan = build_directory_plan(scale)
    refs = _References()
    _apply_working_groups(plan.working_groups, refs)
    associations = _apply_core_associations(plan.associations, refs)
    _apply_core_people(plan.people, associations, refs)
    _apply_parrainages(plan.parrainages, associations)
    _apply_parrainage_journey(associations)
    if stdout is not None:
        stdout.write(f"Annuaire : réseau de base prêt ({len(plan.associations)} associations, "
                     f"{len(plan.people)} personnes).")
    if plan.extra_associations:
        extra = _bulk_apply_associations(plan.extra_associations, refs)
        _bulk_apply_people(plan.extra_people, extra, refs)
        if stdout is not None:
            stdout.write(f"Annuaire : {len(plan.extra_associations)} associations et "
                         f"{len(plan.extra_people)} personnes générées en plus (échelle {scale}).")
    return directory_counts()


@transaction.atomic
def seed(scale: int = 1, stdout: Writer | None = None) -> dict:
    """Every demo step, in one transaction (a failure leaves nothing half-written).

    Returns {"scale", "directory": counts, "membership": counts, "demo_accounts": [(username,
    description)], "demo_applications": [(private link path, description)]}; later steps (forum, CMS,
    chat) add their own keys.
    """
    if scale < 1:
        raise ValueError("L'échelle doit être un entier supérieur ou égal à 1.")
    # Bulk-created content sends no signals: the search index is rebuilt once, at the end, rather
    # than document by document as each object is saved.
    with indexing.suspended():
        result = {
            "scale": scale,
            "directory": seed_directory(scale, stdout),
            "membership": seed_membership(stdout),
            "forum": seed_forum(scale, stdout),
            "cms": seed_cms(scale, stdout),
            "chat": seed_chat(scale, stdout),
            "demo_accounts": demo_accounts(),
            "demo_applications": demo_application_links(),
        }
    result["search"] = indexing.rebuild()
    return result


def summary_lines(result: dict) -> list[str]:
    """The French summary the command prints at the end."""
    d = result["directory"]
    lines = [
        f"Données de démonstration à jour (échelle {result['scale']}).",
        f"  Associations : {d['associations']} ({d['members']} adhérentes, {d['candidates']} candidates, "
        f"{d['former']} anciennes adhérentes), dans {d['cours']} cours d'appel et {d['regions']} régions.",
        f"  Personnes : {d['people']} ; groupes de travail : {d['working_groups']} ; "
        f"parrainages en cours : {d['parrainages']}.",
    ]
    if "membership" in result:
        m = result["membership"]
        by_status = [f"{m[s]} {str(label).lower()}" for s, label in MembershipApplication.Status.choices if m[s]]
        lines.append(f"  Candidatures d'adhésion : {m['applications']}"
                     + (f" ({', '.join(by_status)})." if by_status else "."))
    if "forum" in result:
        f = result["forum"]
        lines.append(f"  Forum : {f['forums']} forums, {f['topics']} sujets, {f['posts']} messages, "
                     f"{f['meetings']} réunions nationales.")
    if "cms" in result:
        c = result["cms"]
        lines.append(f"  Ressources : {c['guides']} guides ({c['restricted']} à diffusion restreinte), "
                     f"{c['documents']} documents, {c['events']} événements ({c['registrations']} inscriptions, "
                     f"dont {c['waiting']} en liste d'attente), {c['news']} actualités.")
    if "chat" in result:
        h = result["chat"]
        lines.append(f"  Discussions : {h['rooms']} salons ({h['direct']} conversations privées, {h['adhoc']} salons "
                     f"ponctuels), {h['messages']} messages.")
    if "search" in result:
        lines.append(f"  Recherche : {result['search']['database']} documents indexés.")
    lines += [
        "",
        f"Comptes de démonstration (mot de passe : {DEMO_PASSWORD}) :",
    ]
    width = max(len(username) for username, _ in result["demo_accounts"])
    lines.extend(f"  {username.ljust(width)}  {label}" for username, label in result["demo_accounts"])
    if result.get("demo_applications"):
        lines += ["", "Liens privés des candidatures de démonstration (côté association candidate) :"]
        width = max(len(path) for path, _ in result["demo_applications"])
        lines.extend(f"  {path.ljust(width)}  {label}" for path, label in result["demo_applications"])
    return lines
