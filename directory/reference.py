"""Reference data every install needs: regions, the 36 cours d'appel, juridictions and themes.

Loaded by a data migration (a real install has it without demo data) and re-applied idempotently
by `seed_demo`. Functions take the model classes so that migrations can pass historical models.
"""

from django.utils.text import slugify

# The federation's interregions and the cours d'appel they group (all 36; docs/architecture.md,
# The network's words).
REGIONS: dict[str, list[str]] = {
    "Grand Ouest": ["Angers", "Caen", "Rennes", "Rouen"],
    "Île-de-France": ["Paris", "Versailles"],
    "Nord-Est": ["Amiens", "Colmar", "Douai", "Metz", "Nancy", "Reims"],
    "Centre-Est": ["Besançon", "Chambéry", "Dijon", "Grenoble", "Lyon", "Riom"],
    "Centre-Val de Loire": ["Bourges", "Orléans"],
    "Sud-Est": ["Aix-en-Provence", "Bastia", "Montpellier", "Nîmes"],
    "Sud-Ouest": ["Agen", "Bordeaux", "Limoges", "Pau", "Poitiers", "Toulouse"],
    "Outre-mer": ["Basse-Terre", "Cayenne", "Fort-de-France", "Nouméa", "Papeete", "Saint-Denis (La Réunion)"],
}

# Tribunaux judiciaires, by cour d'appel (those the network's associations serve).
JURIDICTIONS: dict[str, list[str]] = {
    "Agen": ["Agen", "Auch", "Cahors"],
    "Aix-en-Provence": ["Marseille", "Aix-en-Provence", "Toulon", "Nice", "Draguignan", "Grasse"],
    "Amiens": ["Amiens", "Beauvais", "Compiègne", "Laon", "Saint-Quentin"],
    "Angers": ["Angers", "Le Mans", "Laval", "Saumur"],
    "Basse-Terre": ["Basse-Terre", "Pointe-à-Pitre"],
    "Bastia": ["Bastia", "Ajaccio"],
    "Besançon": ["Besançon", "Belfort", "Lons-le-Saunier", "Vesoul"],
    "Bordeaux": ["Bordeaux", "Libourne", "Périgueux", "Angoulême", "Bergerac"],
    "Bourges": ["Bourges", "Châteauroux", "Nevers"],
    "Caen": ["Caen", "Cherbourg", "Alençon", "Lisieux", "Coutances"],
    "Cayenne": ["Cayenne"],
    "Chambéry": ["Chambéry", "Annecy", "Thonon-les-Bains", "Albertville"],
    "Colmar": ["Colmar", "Mulhouse", "Strasbourg", "Saverne"],
    "Dijon": ["Dijon", "Chalon-sur-Saône", "Mâcon", "Chaumont"],
    "Douai": ["Lille", "Douai", "Valenciennes", "Arras", "Boulogne-sur-Mer", "Dunkerque"],
    "Fort-de-France": ["Fort-de-France"],
    "Grenoble": ["Grenoble", "Valence", "Vienne", "Gap"],
    "Limoges": ["Limoges", "Brive-la-Gaillarde", "Guéret", "Tulle"],
    "Lyon": ["Lyon", "Villefranche-sur-Saône", "Saint-Étienne", "Bourg-en-Bresse", "Roanne"],
    "Metz": ["Metz", "Thionville", "Sarreguemines"],
    "Montpellier": ["Montpellier", "Béziers", "Perpignan", "Narbonne", "Carcassonne", "Rodez"],
    "Nancy": ["Nancy", "Épinal", "Bar-le-Duc", "Verdun"],
    "Nîmes": ["Nîmes", "Avignon", "Carpentras", "Alès", "Privas"],
    "Nouméa": ["Nouméa"],
    "Orléans": ["Orléans", "Tours", "Blois"],
    "Papeete": ["Papeete"],
    "Paris": ["Paris", "Bobigny", "Créteil", "Évry-Courcouronnes", "Meaux", "Melun", "Sens", "Auxerre"],
    "Pau": ["Pau", "Bayonne", "Mont-de-Marsan", "Dax", "Tarbes"],
    "Poitiers": ["Poitiers", "La Rochelle", "Niort", "La Roche-sur-Yon", "Saintes"],
    "Reims": ["Reims", "Châlons-en-Champagne", "Charleville-Mézières", "Troyes"],
    "Rennes": ["Rennes", "Nantes", "Brest", "Quimper", "Lorient", "Vannes", "Saint-Brieuc", "Saint-Nazaire"],
    "Riom": ["Clermont-Ferrand", "Moulins", "Montluçon", "Aurillac", "Le Puy-en-Velay", "Cusset"],
    "Rouen": ["Rouen", "Le Havre", "Évreux", "Dieppe"],
    "Saint-Denis (La Réunion)": ["Saint-Denis", "Saint-Pierre", "Mamoudzou"],
    "Toulouse": ["Toulouse", "Albi", "Castres", "Montauban", "Foix"],
    "Versailles": ["Versailles", "Nanterre", "Pontoise", "Chartres"],
}

THEMES: list[tuple[str, str]] = [
    # (name, kind)
    ("Pré-sentenciel", "theme"),
    ("Post-sentenciel", "theme"),
    ("Justice des enfants et des adolescents", "theme"),
    ("Éthique", "theme"),
    ("Fonctions support, RH et juridique", "theme"),
    ("Financement", "theme"),
    ("Vie associative et conseils d'administration", "theme"),
    ("Fonction de direction", "theme"),
    ("Coopération entre associations", "theme"),
    ("Place des personnes accompagnées", "theme"),
    ("Hébergement", "theme"),
    ("Santé et addictions", "theme"),
    ("Insertion des personnes placées sous main de justice", "theme"),
    ("Contrôle judiciaire socio-éducatif (CJSE)", "measure"),
    ("Enquêtes sociales rapides", "measure"),
    ("Enquêtes de personnalité", "measure"),
    ("Médiation pénale", "measure"),
    ("Stage de citoyenneté", "measure"),
    ("Stage de sensibilisation aux violences conjugales", "measure"),
    ("Placement à l'extérieur", "measure"),
    ("Accompagnement des auteurs de violences conjugales", "measure"),
]


_VOWELS = "AEIOUYÉÈÊÂÎÔ"


def de(name: str) -> str:
    """French "de" before a place name: "de Lyon", "d'Angers", "du Mans", "de La Rochelle"."""
    if name.startswith("Le "):
        return f"du {name[3:]}"
    if name.startswith("Les "):
        return f"des {name[4:]}"
    if name[0].upper() in _VOWELS:
        return f"d'{name}"
    return f"de {name}"


def load_reference_data(Region, CourDAppel, Juridiction, Theme) -> None:
    """Create or update the reference rows; safe to run any number of times."""
    for region_name, cours in REGIONS.items():
        region, _ = Region.objects.update_or_create(slug=slugify(region_name), defaults={"name": region_name})
        for cour_name in cours:
            cour, _ = CourDAppel.objects.update_or_create(
                slug=slugify(cour_name), defaults={"name": cour_name, "region": region}
            )
            for juridiction_name in JURIDICTIONS.get(cour_name, []):
                Juridiction.objects.update_or_create(
                    slug=slugify(f"tj-{juridiction_name}"),
                    defaults={"name": f"Tribunal judiciaire {de(juridiction_name)}", "cour": cour},
                )
    for name, kind in THEMES:
        Theme.objects.update_or_create(slug=slugify(name), defaults={"name": name, "kind": kind})
