"""CMS demo content: guides, tool library with real PDF/ODT files, agenda, news, a review in progress.

Called by `demo.directory.seed()` after the directory and forum steps. Deterministic (fixed texts,
fixed random seed; event and news dates are placed around the day of the first seed, as the forum's
meetings are) and idempotent (pages are found again by slug under their parent, documents by title
in their collection, registrations by person). `scale` adds generated practice sheets and news
for benchmarks.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from machina.apps.forum_conversation.models import Topic
from wagtail.documents import get_document_model
from wagtail.models import Collection, Page

from cms import services
from cms.models import (
    EventIndexPage,
    EventPage,
    EventRegistration,
    GuidePage,
    NewsIndexPage,
    NewsPage,
    ResourcesIndexPage,
    ToolLibraryPage,
)
from cms.setup import MEMBERS_COLLECTION_NAME, ensure_site_structure
from demo.cms_files import odt_document, pdf_document
from directory.access import CmsAudience
from directory.models import Region, Theme, User
from directory.roles import MEMBERS_GROUP_KEY, STAFF_GROUP_KEY

SEED = 20251104
REFERENCE_DATE = date(2025, 9, 15)
GENERATED_GUIDES_PER_SCALE = 5
GENERATED_NEWS_PER_SCALE = 3

Document = get_document_model()


# --- Helpers -------------------------------------------------------------------------------------


def h2(text: str) -> dict:
    return {"type": "heading", "value": {"text": text, "level": "h2"}}


def h3(text: str) -> dict:
    return {"type": "heading", "value": {"text": text, "level": "h3"}}


def para(*paragraphs: str) -> dict:
    return {"type": "paragraph", "value": "".join(f"<p>{p}</p>" for p in paragraphs)}


def bullets(intro: str, items: list[str]) -> dict:
    return {"type": "paragraph",
            "value": (f"<p>{intro}</p>" if intro else "") + "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"}


def callout(kind: str, title: str, text: str) -> dict:
    return {"type": "callout", "value": {"kind": kind, "title": title, "text": f"<p>{text}</p>"}}


def checklist(title: str, items: list[str]) -> dict:
    return {"type": "checklist", "value": {"title": title, "items": items}}


def faq(items: list[tuple[str, str]], title: str = "Questions fréquentes") -> dict:
    return {"type": "faq", "value": {"title": title,
                                     "items": [{"question": q, "answer": f"<p>{a}</p>"} for q, a in items]}}


def download(key: str, description: str = "") -> dict:
    return {"type": "document", "value": {"document": key, "label": "", "description": description}}


def topic_link(subject: str, label: str = "") -> dict:
    return {"type": "forum_topic", "value": {"topic": subject, "label": label}}


@dataclass
class DocumentPlan:
    key: str
    title: str
    filename: str
    collection: str
    kind: str
    description: str
    themes: tuple[str, ...]
    paragraphs: list[str]


@dataclass
class GuidePlan:
    slug: str
    title: str
    summary: str
    themes: tuple[str, ...]
    updated_on: date
    body: list[dict]
    audience: str = CmsAudience.MEMBERS


@dataclass
class EventPlan:
    slug: str
    title: str
    kind: str
    days_from_seed: int
    hours: tuple[int, int]
    place: str
    video_link: str
    audience: str
    summary: str
    themes: tuple[str, ...] = ()
    region: str | None = None
    capacity: int | None = None
    body: list[dict] = field(default_factory=list)
    registrations: int = 0


@dataclass
class NewsPlan:
    slug: str
    title: str
    days_before_seed: int
    summary: str
    body: list[dict]
    themes: tuple[str, ...] = ()


# --- Collections and documents ---------------------------------------------------------------------

COLLECTIONS = [
    ("Guides et fiches (PDF)", CmsAudience.MEMBERS),
    ("Trames et modèles", CmsAudience.MEMBERS),
    ("Chartes", CmsAudience.MEMBERS),
    ("Fiches techniques des correspondants", CmsAudience.MEMBERS),
    ("Réservé aux président·es", CmsAudience.PRESIDENTS),
]

DOCUMENTS = [
    DocumentPlan(
        "convention-mad", "Modèle de convention de mise à disposition de personnel",
        "modele-convention-mise-a-disposition.odt", "Trames et modèles", "modele",
        "Modèle commenté pour mettre un ou une salariée à disposition d'une association partenaire, sans but "
        "lucratif.", ("fonctions-support-rh-et-juridique", "cooperation-entre-associations"),
        ["Entre les soussignées : l'association prêteuse, représentée par sa présidente ou son président, et "
         "l'association d'accueil, représentée de même.",
         "Article 1 — Objet : la présente convention organise la mise à disposition à but non lucratif de "
         "[nom, fonction] pour [nombre] heures par mois.",
         "Article 2 — Refacturation : l'association d'accueil rembourse à l'euro près le salaire, les charges "
         "sociales et les frais professionnels, sans marge.",
         "Article 3 — Conditions de travail : l'association d'accueil est responsable des conditions "
         "d'exécution du travail (durée, sécurité, hygiène).",
         "- Avenant au contrat de travail signé par la personne mise à disposition",
         "- Information préalable du comité social et économique de chaque association",
         "Article 4 — Durée et fin de la mise à disposition ; retour de la personne sur son poste."],
    ),
    DocumentPlan(
        "obligations-employeur", "Fiche : les obligations de l'employeur associatif",
        "fiche-obligations-employeur-associatif.pdf", "Guides et fiches (PDF)", "fiche",
        "Les points de vigilance d'une association employeuse : registre, affichages, document unique, "
        "entretiens professionnels.", ("fonctions-support-rh-et-juridique",),
        ["Cette fiche rappelle les obligations principales d'une association employeuse du secteur "
         "socio-judiciaire. Elle ne remplace pas le conseil d'un juriste.",
         "1. Tenir le registre unique du personnel et les affichages obligatoires.",
         "2. Évaluer les risques professionnels dans le document unique, y compris les risques psychosociaux "
         "liés à l'accompagnement de personnes placées sous main de justice.",
         "3. Organiser les entretiens professionnels tous les deux ans et l'état des lieux tous les six ans.",
         "4. Appliquer la convention collective et ses avenants de classification.",
         "5. Consulter le comité social et économique sur les projets de mutualisation."],
    ),
    DocumentPlan(
        "budget-previsionnel", "Trame de budget prévisionnel d'un service de contrôle judiciaire",
        "trame-budget-previsionnel-cjse.odt", "Trames et modèles", "trame",
        "Trame au format texte ouvert : charges de personnel, frais de structure, produits de la tarification "
        "et des subventions.", ("financement", "controle-judiciaire-socio-educatif-cjse"),
        ["Budget prévisionnel — service de contrôle judiciaire socio-éducatif, exercice à venir.",
         "Charges : personnel socio-éducatif (ETP, coût chargé), encadrement, psychologue, frais de "
         "déplacement, locaux, frais de siège.",
         "Produits : frais de justice (mesures ordonnées), subventions de l'État, des collectivités, "
         "fondations.",
         "- Joindre l'activité de l'année écoulée (nombre de mesures, durée moyenne)",
         "- Expliquer les écarts de plus de 10 % avec le budget précédent"],
    ),
    DocumentPlan(
        "calendrier-financements", "Calendrier des financements du secteur socio-judiciaire",
        "calendrier-financements.pdf", "Guides et fiches (PDF)", "guide",
        "Les échéances de l'année : dialogue de gestion, appels à projets, bilans.", ("financement",),
        ["Janvier à mars : dialogue de gestion avec les services déconcentrés de la Justice ; dépôt des bilans "
         "de l'année écoulée.",
         "Printemps : appels à projets des fonds de prévention ; demandes auprès des départements.",
         "Septembre : préparation des budgets prévisionnels et des demandes de subvention pluriannuelles.",
         "Décembre : suivi des paiements des frais de justice ; relances des mémoires en souffrance."],
    ),
    DocumentPlan(
        "charte-cooperation", "Charte de bonnes pratiques de coopération entre associations",
        "charte-cooperation.pdf", "Chartes", "charte",
        "La charte adoptée par le conseil d'administration : mutualiser, répondre ensemble aux appels à "
        "projets, se remplacer en cas de vacance.", ("cooperation-entre-associations",),
        ["Préambule : les associations du réseau coopèrent pour garantir partout une offre socio-judiciaire de "
         "qualité aux juridictions.",
         "1. Loyauté : une association ne se présente pas sur le territoire d'une autre sans l'en informer.",
         "2. Réponses communes : les associations d'une même cour d'appel étudient ensemble les appels à "
         "projets qui les concernent.",
         "3. Mutualisation : les fonctions support peuvent être partagées par convention.",
         "4. Continuité : en cas de difficulté grave, le réseau organise la reprise des mesures en cours.",
         "5. Transparence : les conventions de coopération sont communiquées à la fédération."],
    ),
    DocumentPlan(
        "fiche-placement-exterieur", "Fiche technique : le placement à l'extérieur",
        "fiche-technique-placement-exterieur.pdf", "Fiches techniques des correspondants", "fiche",
        "Cadre, public, financement et partenariats du placement à l'extérieur.",
        ("placement-a-lexterieur", "post-sentenciel", "hebergement"),
        ["Le placement à l'extérieur permet à une personne condamnée d'exécuter sa peine hors de la "
         "détention, accompagnée par une association.",
         "Public : personnes condamnées proches de la sortie ou à des peines courtes, sur décision du juge de "
         "l'application des peines.",
         "Financement : prix de journée versé par l'administration pénitentiaire ; hébergement en diffus ou "
         "en collectif.",
         "Partenaires : SPIP, bailleurs sociaux, structures d'insertion par l'activité économique."],
    ),
    DocumentPlan(
        "fiche-mesure-educative", "Fiche technique : la mesure éducative judiciaire",
        "fiche-technique-mesure-educative-judiciaire.pdf", "Fiches techniques des correspondants", "fiche",
        "Les modules de la mesure éducative judiciaire depuis le code de la justice pénale des mineurs.",
        ("justice-des-enfants-et-des-adolescents",),
        ["La mesure éducative judiciaire (MEJ) peut comporter quatre modules : insertion, réparation, santé, "
         "placement.",
         "Le secteur associatif habilité intervient notamment pour les modules réparation et insertion.",
         "Points d'attention : délais de prise en charge, articulation avec la PJJ, place des familles."],
    ),
    DocumentPlan(
        "charte-administrateur", "Trame de charte de l'administrateur ou de l'administratrice",
        "trame-charte-administrateur.odt", "Réservé aux président·es", "trame",
        "Trame à adapter : engagements, confidentialité, conflits d'intérêts, formation.",
        ("vie-associative-et-conseils-dadministration",),
        ["Charte de l'administratrice et de l'administrateur de l'association.",
         "Je m'engage à participer aux séances du conseil d'administration et à préparer les dossiers.",
         "Je respecte la confidentialité des débats et des situations individuelles évoquées.",
         "Je déclare tout conflit d'intérêts et je m'abstiens de voter sur les questions qui me concernent.",
         "- Je suis les formations proposées par l'association ou la fédération",
         "- Je représente l'association dans le respect des décisions collectives"],
    ),
    DocumentPlan(
        "kit-accueil-ca", "Kit d'accueil du nouvel administrateur",
        "kit-accueil-nouvel-administrateur.pdf", "Réservé aux président·es", "guide",
        "Ce qu'un nouvel administrateur doit recevoir le jour de son élection.",
        ("vie-associative-et-conseils-dadministration",),
        ["Le jour de l'élection : statuts, règlement intérieur, projet associatif, derniers comptes et rapport "
         "d'activité.",
         "Dans le mois : rencontre avec la direction, visite des services, présentation des financeurs.",
         "Dans l'année : formation à la gouvernance associative proposée par la fédération."],
    ),
    DocumentPlan(
        "grille-ethique", "Grille d'analyse d'une situation éthique",
        "grille-analyse-situation-ethique.odt", "Trames et modèles", "trame",
        "Une grille en cinq questions pour préparer une réunion d'analyse de pratiques.", ("ethique",),
        ["1. Quels sont les faits, sans interprétation ?",
         "2. Quelles valeurs ou quelles obligations entrent en tension ?",
         "3. Qui est concerné et qu'en dit la personne accompagnée ?",
         "4. Quelles réponses possibles, et leurs conséquences ?",
         "5. Quelle décision, prise par qui, et comment la réévaluer ?"],
    ),
]


# --- Guides --------------------------------------------------------------------------------------

GUIDES = [
    GuidePlan(
        "guide-juridique-des-fonctions-support", "Guide juridique des fonctions support",
        "Droit du travail, mutualisation et sécurité juridique des fonctions support (ressources humaines, "
        "paie, comptabilité, juridique) dans les associations socio-judiciaires. Fiche II.1 du projet fédéral.",
        ("fonctions-support-rh-et-juridique", "fonction-de-direction", "cooperation-entre-associations"),
        date(2025, 6, 12),
        [
            para("Les associations du réseau emploient des professionnels qualifiés pour exécuter des mesures "
                 "ordonnées par l'autorité judiciaire. Leurs fonctions support — ressources humaines, paie, "
                 "comptabilité, juridique — sont souvent assurées par une seule personne, ou par la direction "
                 "elle-même. Ce guide rassemble les repères juridiques utiles et les formes de mutualisation "
                 "possibles entre associations."),
            h2("Le cadre juridique de l'association employeuse"),
            para("L'association employeuse applique le code du travail, sa convention collective et, le cas "
                 "échéant, les accords d'entreprise. Les règles propres au secteur social et médico-social "
                 "(agrément des accords, opposabilité aux financeurs) s'appliquent aux services habilités."),
            bullets("Les obligations qui reviennent le plus souvent dans les contrôles :",
                    ["le registre unique du personnel et les affichages obligatoires ;",
                     "le document unique d'évaluation des risques, mis à jour chaque année ;",
                     "les entretiens professionnels et le plan de développement des compétences ;",
                     "la prévention des risques psychosociaux, réelle dans l'accompagnement socio-judiciaire."]),
            download("obligations-employeur", "Une page pour vérifier que rien n'est oublié."),
            h2("Mutualiser les fonctions support"),
            para("Mutualiser permet de disposer de compétences pointues (paie, droit social) sans les porter "
                 "seul. Trois formes juridiques sont utilisées dans le réseau."),
            h3("La mise à disposition de personnel"),
            para("Une association met un ou une salariée à disposition d'une autre, pour une partie de son temps. "
                 "L'opération doit être à <b>but non lucratif</b> : refacturation à l'euro près, sans marge."),
            callout("warning", "Prêt de main-d'œuvre illicite",
                    "Une refacturation supérieure au coût réel, ou une mise à disposition sans avenant au "
                    "contrat de travail, expose les deux associations à la qualification de prêt de "
                    "main-d'œuvre illicite."),
            download("convention-mad", "Modèle commenté, à adapter avec votre conseil."),
            h3("Le groupement d'employeurs"),
            para("Le groupement d'employeurs, association loi 1901, embauche les salariés et les met à "
                 "disposition de ses membres. Ses membres sont solidairement responsables de ses dettes "
                 "salariales : la gouvernance doit être claire dès le départ."),
            h3("La convention de prestation de services"),
            para("Une association vend à une autre une prestation (tenue de la paie, par exemple). Attention à la "
                 "TVA et au régime fiscal des activités lucratives accessoires."),
            checklist("Avant de mutualiser", [
                "Le conseil d'administration de chaque association a délibéré sur le projet.",
                "Le comité social et économique a été informé et consulté.",
                "Le coût complet du poste est calculé et partagé par écrit.",
                "Les avenants aux contrats de travail sont signés.",
                "Une clause de sortie et un préavis sont prévus.",
            ]),
            faq([
                ("Peut-on mutualiser un poste de direction ?",
                 "Oui, plusieurs associations du réseau partagent une direction par mise à disposition ; la "
                 "délégation de pouvoirs de chaque conseil d'administration doit être écrite."),
                ("Qui est responsable de la sécurité de la personne mise à disposition ?",
                 "L'association d'accueil pour les conditions d'exécution du travail, l'association prêteuse "
                 "pour le contrat de travail et la rémunération."),
            ]),
        ],
    ),
    GuidePlan(
        "guide-du-financement", "Guide du financement des associations socio-judiciaires",
        "Frais de justice, subventions, appels à projets : comprendre les financements des mesures pré et "
        "post-sentencielles et préparer un budget solide. Fiches II.3 et I.4 du projet fédéral.",
        ("financement", "controle-judiciaire-socio-educatif-cjse", "enquetes-sociales-rapides", "pre-sentenciel"),
        date(2025, 7, 3),
        [
            para("Les mesures socio-judiciaires sont financées de plusieurs façons, souvent cumulées dans une "
                 "même association. Ce guide présente chaque source, ses règles et ses échéances, puis propose "
                 "une méthode pour construire le budget d'un service."),
            h2("Les frais de justice"),
            para("Les enquêtes sociales rapides, les enquêtes de personnalité et le contrôle judiciaire "
                 "socio-éducatif sont rémunérés au titre des frais de justice, selon des tarifs fixés par le "
                 "code de procédure pénale. Le paiement suit la transmission du mémoire à la juridiction."),
            callout("tip", "Suivre ses mémoires",
                    "Les associations qui tiennent un tableau de suivi des mémoires (date d'envoi, relances, "
                    "paiement) réduisent nettement leurs délais de trésorerie."),
            h3("Le contrôle judiciaire socio-éducatif"),
            para("Le CJSE, alternative à la détention provisoire, est rémunéré au forfait selon la durée de la "
                 "mesure. Les coûts réels d'un suivi intensif dépassent souvent ce forfait : documentez-les pour "
                 "le dialogue de gestion."),
            topic_link("Trame de rapport de fin de mesure CJSE : vous faites comment ?",
                       "Échanger sur les trames de rapport CJSE avec le réseau"),
            h3("Les enquêtes sociales rapides"),
            para("Réalisées dans des délais très courts, souvent pendant la garde à vue ou avant une comparution "
                 "immédiate, elles supposent une organisation des permanences que le tarif seul ne couvre pas."),
            h2("Les subventions et les appels à projets"),
            bullets("Les principaux financeurs, outre le ministère de la Justice :",
                    ["les fonds de prévention de la délinquance, par appel à projets ;",
                     "les départements, pour l'accompagnement social et l'hébergement ;",
                     "les agences régionales de santé, pour les actions santé et addictions ;",
                     "les fondations, pour l'innovation et l'investissement."]),
            download("calendrier-financements", "Les échéances de l'année, mois par mois."),
            h2("Construire le budget d'un service"),
            para("Partez de l'activité réelle de l'année écoulée et du coût complet d'une mesure : temps "
                 "d'intervenant, encadrement, déplacements, frais de structure."),
            download("budget-previsionnel", "Trame modifiable au format texte ouvert."),
            checklist("Le dossier de demande de subvention", [
                "Le projet et ses objectifs, chiffrés.",
                "Le budget prévisionnel du projet et celui de l'association.",
                "Les derniers comptes approuvés et le rapport d'activité.",
                "Les statuts et la liste des membres du conseil d'administration.",
            ]),
            faq([
                ("Que faire quand les mémoires de frais de justice sont payés avec retard ?",
                 "Relancez la régie de la juridiction avec votre tableau de suivi ; si le retard persiste, "
                 "signalez-le à la fédération qui le porte au niveau national."),
                ("Une subvention peut-elle financer une mesure déjà payée en frais de justice ?",
                 "Non : c'est un double financement. La subvention peut en revanche financer ce que le tarif ne "
                 "couvre pas (permanences, coordination), si c'est écrit dans la convention."),
            ]),
        ],
    ),
    GuidePlan(
        "guide-du-recrutement-de-lanimation-et-de-la-formation-des-ca",
        "Guide du recrutement, de l'animation et de la formation des conseils d'administration",
        "Renouveler son conseil d'administration, le faire vivre et former ses membres : méthodes et outils "
        "partagés par les président·es du réseau. Fiche II.5 du projet fédéral — réservé aux président·es.",
        ("vie-associative-et-conseils-dadministration",),
        date(2025, 5, 20),
        [
            para("Ce guide est issu des réunions nationales des Président·es. Il s'adresse aux président·es "
                 "d'associations adhérentes et à l'équipe fédérale qui les accompagne."),
            h2("Recruter des administrateurs et administratrices"),
            para("Le conseil d'administration gagne à réunir des profils complémentaires : professionnels du "
                 "droit, du soin, de la gestion, anciens magistrats, personnes accompagnées par le passé."),
            bullets("Où chercher :", ["les réseaux des membres actuels et des partenaires judiciaires ;",
                                      "les plateformes de bénévolat de compétences ;",
                                      "les anciens salariés à la retraite, avec prudence sur les conflits "
                                      "d'intérêts."]),
            h2("Animer le conseil"),
            para("Un ordre du jour envoyé dix jours avant, des dossiers courts, un temps de débat réel sur les "
                 "orientations : les conseils qui fonctionnent bien ont des règles simples et tenues."),
            callout("info", "Le binôme présidence-direction",
                    "Clarifiez par écrit les délégations confiées à la direction et les sujets réservés au "
                    "conseil ; révisez ce document à chaque changement de présidence ou de direction."),
            download("charte-administrateur"),
            h2("Former les membres du conseil"),
            para("La fédération propose chaque année une formation à la gouvernance associative ; le kit "
                 "d'accueil ci-dessous aide à intégrer les nouveaux membres."),
            download("kit-accueil-ca"),
            checklist("L'accueil d'un nouvel administrateur", [
                "Remise des statuts, du projet associatif et des derniers comptes.",
                "Rencontre avec la direction et visite d'un service.",
                "Signature de la charte de l'administrateur.",
                "Inscription à la prochaine formation fédérale.",
            ]),
            topic_link("Réunion nationale des Président·es — session de printemps",
                       "Le fil de la prochaine réunion nationale des Président·es"),
        ],
        audience=CmsAudience.PRESIDENTS,
    ),
    GuidePlan(
        "charte-de-bonnes-pratiques-de-cooperation", "Charte de bonnes pratiques de coopération",
        "Les engagements que prennent les associations du réseau pour coopérer : loyauté territoriale, "
        "réponses communes aux appels à projets, mutualisation, continuité. Fiche II.9.",
        ("cooperation-entre-associations",), date(2025, 4, 8),
        [
            para("Adoptée par le conseil d'administration de la fédération, la charte engage les associations "
                 "adhérentes. Elle se lit avec le guide juridique des fonctions support pour la mutualisation."),
            download("charte-cooperation", "Version signable de la charte."),
            h2("Les cinq engagements"),
            bullets("", ["<b>Loyauté</b> : informer les associations déjà présentes avant d'intervenir sur un "
                         "territoire ;",
                         "<b>Réponses communes</b> : étudier ensemble les appels à projets d'une même cour d'appel ;",
                         "<b>Mutualisation</b> : partager des fonctions support par convention ;",
                         "<b>Continuité</b> : organiser la reprise des mesures si une association défaille ;",
                         "<b>Transparence</b> : communiquer les conventions de coopération à la fédération."]),
            h2("Mettre la charte en pratique"),
            h3("Répondre ensemble à un appel à projets"),
            para("Désignez une association cheffe de file, répartissez les territoires et les moyens par écrit, "
                 "et prévoyez une instance de suivi commune."),
            callout("tip", "Le rôle des DICA",
                    "Les délégué·es inter-cours d'appel peuvent réunir les associations concernées et faire le "
                    "lien avec la fédération."),
            faq([("La charte a-t-elle une valeur juridique ?",
                  "Elle engage moralement les associations adhérentes ; les conventions signées pour l'appliquer "
                  "ont, elles, une valeur contractuelle.")]),
        ],
    ),
    GuidePlan(
        "fiches-techniques-des-correspondants", "Fiches techniques des correspondants interrégionaux",
        "Les fiches préparées par les correspondant·es interrégionaux justice des enfants et post-sentenciel "
        "avec la conseillère technique : cadre, publics, financement, partenaires. Fiche IV.10.",
        ("justice-des-enfants-et-des-adolescents", "post-sentenciel", "placement-a-lexterieur",
         "controle-judiciaire-socio-educatif-cjse"),
        date(2025, 8, 28),
        [
            para("Chaque fiche tient sur une page et se télécharge pour être partagée avec les équipes. Les "
                 "correspondant·es les mettent à jour après chaque évolution législative."),
            h2("Post-sentenciel"),
            h3("Le placement à l'extérieur"),
            para("Une alternative à l'incarcération pour préparer la sortie, avec hébergement et accompagnement "
                 "vers l'emploi."),
            download("fiche-placement-exterieur"),
            h3("Le contrôle judiciaire socio-éducatif en lien avec le SPIP"),
            para("Quand un CJSE se prolonge par une peine aménagée, la transmission au SPIP se prépare avec la "
                 "personne : synthèse écrite, rencontre tripartite si possible."),
            h2("Justice des enfants et des adolescents"),
            h3("La mesure éducative judiciaire"),
            para("Depuis le code de la justice pénale des mineurs, la MEJ peut combiner plusieurs modules ; le "
                 "secteur associatif habilité y prend une place croissante."),
            download("fiche-mesure-educative"),
            callout("info", "Proposer une fiche",
                    "Vous avez construit un outil utile ? Écrivez à votre correspondant·e interrégional·e : les "
                    "fiches sont relues par la conseillère technique avant publication."),
        ],
    ),
    GuidePlan(
        "guide-de-reflexion-ethique", "Guide de réflexion éthique",
        "Secret professionnel, place de la personne accompagnée, double mandat judiciaire et éducatif : des "
        "repères pour mener une réflexion éthique en équipe. Fiche I.7.",
        ("ethique", "place-des-personnes-accompagnees"), date(2025, 3, 17),
        [
            para("L'intervention socio-judiciaire place les professionnels entre le mandat de l'autorité "
                 "judiciaire et l'accompagnement de la personne. Ce guide propose des repères et une méthode "
                 "pour en débattre en équipe."),
            h2("Des tensions propres au socio-judiciaire"),
            h3("Rendre compte au juge, protéger la confiance"),
            para("Le rapport au magistrat dit ce qui est utile à la décision, pas tout ce qui a été confié. La "
                 "personne sait dès le premier entretien ce qui sera transmis."),
            h3("Le secret professionnel partagé"),
            para("Partager une information avec un partenaire suppose qu'elle soit strictement nécessaire à "
                 "l'accompagnement et que la personne en soit informée."),
            callout("warning", "Signalement",
                    "Le secret ne s'oppose pas au signalement d'un danger grave et imminent : en cas de doute, "
                    "la direction et le cadre de permanence sont joints sans attendre."),
            h2("Conduire une réflexion éthique en équipe"),
            para("Une situation, des faits, des valeurs en tension, des options, une décision réévaluée : la "
                 "grille ci-dessous structure la réunion."),
            download("grille-ethique"),
            checklist("Préparer la réunion", [
                "La situation est anonymisée.",
                "Le point de vue de la personne accompagnée est recueilli ou représenté.",
                "Une personne anime, une autre prend des notes.",
                "La décision et sa date de réévaluation sont écrites.",
            ]),
            faq([
                ("Faut-il un comité d'éthique dans chaque association ?",
                 "Non ; une instance de réflexion régulière suffit souvent. Le groupe de travail fédéral « "
                 "Éthique » peut être sollicité sur les situations complexes."),
                ("La personne accompagnée peut-elle participer ?",
                 "Oui, et c'est encouragé quand la situation la concerne directement, avec son accord."),
            ]),
        ],
    ),
]

PENDING_GUIDE = GuidePlan(
    "guide-daccueil-des-nouveaux-adherents", "Guide d'accueil des nouveaux adhérents",
    "Les premiers mois dans le réseau : parrainage, forums, réunions régionales, ressources. (Brouillon en "
    "relecture.)", ("cooperation-entre-associations", "vie-associative-et-conseils-dadministration"),
    date(2025, 9, 10),
    [
        para("Bienvenue dans le réseau ! Ce guide rassemble ce qu'une association nouvellement adhérente doit "
             "savoir pour ses premiers mois."),
        h2("Votre association marraine"),
        para("Une association expérimentée vous accompagne pendant un an : rencontres, échanges de pratiques, "
             "appui pour vos premières réunions régionales."),
    ],
)


# --- Events and news -------------------------------------------------------------------------------

EVENTS = [
    EventPlan(
        "journee-thematique-cjse", "Journée thématique : le CJSE, alternative à la détention provisoire",
        EventPage.Kind.THEMATIC_DAY, 40, (9, 17), "Maison du Barreau, 2 rue de Harlay, Paris",
        "https://visio.federation-passerelles.exemple.fr/cjse", CmsAudience.MEMBERS,
        "Une journée pour partager les pratiques du contrôle judiciaire socio-éducatif avec des magistrats et "
        "des avocats : évaluation, intensité du suivi, rapports.",
        ("controle-judiciaire-socio-educatif-cjse", "pre-sentenciel"), capacity=80, registrations=12,
        body=[h2("Programme"), bullets("", ["9 h 30 : ouverture par la présidence de la fédération ;",
                                             "10 h : table ronde avec des juges des libertés et de la détention ;",
                                             "14 h : ateliers (évaluation, rapports, partenariats) ;",
                                             "16 h 30 : synthèse et perspectives."])],
    ),
    EventPlan(
        "formation-ecrits-professionnels-esr", "Formation : les écrits professionnels en enquête sociale rapide",
        EventPage.Kind.TRAINING, 21, (9, 13), "", "https://visio.federation-passerelles.exemple.fr/esr",
        CmsAudience.MEMBERS,
        "Une matinée en visioconférence, en petit groupe, pour travailler la structure et le style des "
        "rapports d'enquête sociale rapide.",
        ("enquetes-sociales-rapides",), capacity=6, registrations=8,
        body=[para("Le nombre de places est volontairement réduit pour permettre le travail sur vos écrits. "
                   "Les personnes en liste d'attente sont inscrites automatiquement si une place se libère.")],
    ),
    EventPlan(
        "reunion-regionale-centre-est", "Réunion régionale Centre-Est",
        EventPage.Kind.REGIONAL_MEETING, 18, (14, 17), "Horizon Justice Rhône, 24 rue Servient, Lyon", "",
        CmsAudience.REGION, "Réunion des associations de la région animée par les DICA : actualités, "
        "coopérations, préparation de l'assemblée générale.", ("cooperation-entre-associations",),
        region="centre-est", capacity=30, registrations=5,
    ),
    EventPlan(
        "reunion-regionale-grand-ouest", "Réunion régionale Grand Ouest",
        EventPage.Kind.REGIONAL_MEETING, 25, (10, 16), "Maison des associations, 6 cours des Alliés, Rennes",
        "https://visio.federation-passerelles.exemple.fr/grand-ouest", CmsAudience.REGION,
        "La vie régionale du Grand Ouest : justice des enfants, placement à l'extérieur, échanges entre "
        "directions.", ("justice-des-enfants-et-des-adolescents",), region="grand-ouest", capacity=40,
        registrations=4,
    ),
    EventPlan(
        "atelier-gouvernance-presidents", "Atelier des Président·es : renouveler son conseil d'administration",
        EventPage.Kind.OTHER, 33, (18, 20), "", "https://visio.federation-passerelles.exemple.fr/presidence",
        CmsAudience.PRESIDENTS, "Un atelier en visioconférence autour du guide du recrutement et de l'animation "
        "des conseils d'administration.", ("vie-associative-et-conseils-dadministration",), capacity=20,
        registrations=3,
    ),
    EventPlan(
        "journee-etude-ethique", "Journée d'étude : éthique de l'accompagnement socio-judiciaire",
        EventPage.Kind.THEMATIC_DAY, -60, (9, 17), "Athénée municipal, place Saint-Christoly, Bordeaux", "",
        CmsAudience.MEMBERS, "Conférences et ateliers autour du guide de réflexion éthique, avec le groupe de "
        "travail fédéral.", ("ethique",), capacity=120, registrations=10,
    ),
]

NEWS = [
    NewsPlan("publication-du-guide-du-financement", "Le guide du financement est en ligne", 9,
             "Frais de justice, subventions, appels à projets : le guide du financement rassemble les repères "
             "demandés par les directions lors de la dernière assemblée générale.",
             [para("Le guide a été rédigé par l'équipe fédérale avec un groupe de directrices et directeurs. Il "
                   "sera complété au fil des retours : n'hésitez pas à en débattre dans le forum.")],
             ("financement",)),
    NewsPlan("bienvenue-alme-40", "Bienvenue à l'ALME 40", 19,
             "L'association landaise de médiation et d'enquêtes rejoint le réseau ; l'ACJS 33 sera son "
             "association marraine.",
             [para("Le conseil d'administration a prononcé l'adhésion sur l'avis de la commission d'adhésion. "
                   "Retrouvez l'association dans l'annuaire.")],
             ("mediation-penale",)),
    NewsPlan("appel-fiches-techniques", "Appel à contributions : fiches techniques", 34,
             "Les correspondant·es interrégionaux préparent de nouvelles fiches : placement à l'extérieur, "
             "mesure éducative judiciaire, stages. Partagez vos outils !",
             [para("Envoyez vos trames et retours d'expérience à votre correspondant·e interrégional·e avant la "
                   "fin du trimestre.")],
             ("post-sentenciel", "justice-des-enfants-et-des-adolescents")),
    NewsPlan("retour-journee-ethique", "Retour sur la journée d'étude éthique", 55,
             "Plus de cent professionnels réunis à Bordeaux autour de la réflexion éthique en équipe.",
             [para("Les supports des ateliers sont disponibles dans la boîte à outils, avec la grille d'analyse "
                   "d'une situation éthique.")],
             ("ethique",)),
]

GENERATED_SUBJECTS = [
    ("Accueillir une personne sortant de détention", "insertion-des-personnes-placees-sous-main-de-justice"),
    ("Organiser une permanence d'enquêtes sociales rapides", "enquetes-sociales-rapides"),
    ("Animer un stage de citoyenneté", "stage-de-citoyennete"),
    ("Conduire une médiation pénale", "mediation-penale"),
    ("Coordonner le soin et l'accompagnement", "sante-et-addictions"),
    ("Héberger en diffus : bail glissant et médiation locative", "hebergement"),
    ("Évaluer en contrôle judiciaire socio-éducatif", "controle-judiciaire-socio-educatif-cjse"),
    ("Prévenir la récidive des violences conjugales", "accompagnement-des-auteurs-de-violences-conjugales"),
]


# --- Applying the plan ---------------------------------------------------------------------------


def _themes(slugs) -> list[Theme]:
    return list(Theme.objects.filter(slug__in=list(slugs)))


def _staff(username: str = "equipe") -> User | None:
    return User.objects.filter(username=username).first()


def _child(parent: Page, model, slug: str):
    return model.objects.child_of(parent).filter(slug=slug).first()


def _publish(parent: Page, page: Page, user: User | None, themes=()) -> Page:
    """Add `page` under `parent` and publish it through a revision (as the admin would)."""
    if themes:
        page.themes.set(themes)  # in memory until the page is saved (modelcluster)
    parent.add_child(instance=page)
    page.save_revision(user=user).publish(user=user)
    page.refresh_from_db()
    return page


def _ensure_collections() -> dict[str, Collection]:
    members = Collection.objects.get(name=MEMBERS_COLLECTION_NAME, depth=2)
    collections = {MEMBERS_COLLECTION_NAME: members}
    for name, audience in COLLECTIONS:
        collections[name] = services.ensure_collection(
            name, members, audience if audience != CmsAudience.MEMBERS else None)
    return collections


def _attach_file(document, filename: str, content: bytes) -> None:
    """Reuse the stored file when it already holds these very bytes (a re-seed after a database reset
    leaves the media folder as it was), otherwise store a new one."""
    storage = document.file.storage
    name = f"documents/{filename}"
    if storage.exists(name):
        with storage.open(name, "rb") as existing:
            if existing.read() == content:
                document.file.name = name
                return
    document.file.save(filename, ContentFile(content), save=False)


def _ensure_documents(collections: dict[str, Collection], staff: User | None) -> dict[str, object]:
    documents = {}
    for plan in DOCUMENTS:
        collection = collections[plan.collection]
        document = Document.objects.filter(title=plan.title, collection=collection).first()
        if document is None:
            maker = pdf_document if plan.filename.endswith(".pdf") else odt_document
            content = maker(plan.title, plan.paragraphs)
            document = Document(title=plan.title, collection=collection, kind=plan.kind, description=plan.description,
                                uploaded_by_user=staff)
            _attach_file(document, plan.filename, content)
            document._set_document_file_metadata()
            document.save()
            document.themes.set(_themes(plan.themes))
        documents[plan.key] = document
    return documents


def _resolve_body(body: list[dict], documents: dict, topics: dict[str, int]) -> str:
    """Replace document keys and topic subjects by ids; drop links whose target is missing."""
    resolved = []
    for block in body:
        if block["type"] == "document":
            document = documents.get(block["value"]["document"])
            if document is None:
                continue
            block = {"type": "document", "value": {**block["value"], "document": document.pk}}
        elif block["type"] == "forum_topic":
            topic_id = topics.get(block["value"]["topic"])
            if topic_id is None:
                continue
            block = {"type": "forum_topic", "value": {**block["value"], "topic": topic_id}}
        resolved.append(block)
    return json.dumps(resolved)


def _topic_ids(bodies: list[list[dict]]) -> dict[str, int]:
    subjects = {b["value"]["topic"] for body in bodies for b in body if b["type"] == "forum_topic"}
    found: dict[str, int] = {}
    for topic_id, subject in Topic.objects.filter(subject__in=subjects).order_by("pk").values_list("pk", "subject"):
        found.setdefault(subject, topic_id)
    return found


def _ensure_guides(resources: ResourcesIndexPage, documents: dict, staff: User | None) -> int:
    created = 0
    topics = _topic_ids([g.body for g in GUIDES])
    for plan in GUIDES:
        if _child(resources, GuidePage, plan.slug):
            continue
        guide = GuidePage(title=plan.title, slug=plan.slug, summary=plan.summary, content_updated_on=plan.updated_on,
                          body=_resolve_body(plan.body, documents, topics))
        guide = _publish(resources, guide, staff, _themes(plan.themes))
        if plan.audience != CmsAudience.MEMBERS:
            services.restrict_page(guide, plan.audience)
        created += 1
    return created


def _ensure_pending_review(resources: ResourcesIndexPage) -> bool:
    """A draft guide submitted by a staff member, waiting for another one's review (workflow demo)."""
    if _child(resources, GuidePage, PENDING_GUIDE.slug):
        return False
    writer = (User.objects.filter(groups__managed__key=STAFF_GROUP_KEY, is_active=True)
              .exclude(username="equipe").order_by("username").first())
    if writer is None:
        return False
    plan = PENDING_GUIDE
    guide = GuidePage(title=plan.title, slug=plan.slug, summary=plan.summary, live=False,
                      content_updated_on=plan.updated_on, body=_resolve_body(plan.body, {}, {}))
    guide.themes.set(_themes(plan.themes))
    resources.add_child(instance=guide)
    services.submit_for_review(guide, writer)
    return True


def _event_moment(start: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(start, time(hour, 0)))


def _registrants(plan: EventPlan, event: EventPage, rng: random.Random) -> list[User]:
    groups = event.audience_groups()
    people = list(User.objects.filter(is_active=True, groups__managed__key__in=groups)
                  .exclude(username__in=["intervenant", "president", "directrice", "equipe", "correspondant", "dica"])
                  .distinct().order_by("username")[:200])
    rng.shuffle(people)
    return people[: plan.registrations]


def _ensure_events(resources: ResourcesIndexPage, staff: User | None, rng: random.Random) -> tuple[int, int]:
    agenda = _child(resources, EventIndexPage, "agenda")
    if agenda is None:
        agenda = _publish(resources, EventIndexPage(
            title="Agenda", slug="agenda",
            intro="Journées thématiques, formations et réunions régionales du réseau."), staff)
    today = timezone.localdate()
    created = registrations = 0
    for plan in EVENTS:
        if _child(agenda, EventPage, plan.slug):
            continue
        day = today + timedelta(days=plan.days_from_seed)
        region = Region.objects.filter(slug=plan.region).first() if plan.region else None
        event = EventPage(
            title=plan.title, slug=plan.slug, kind=plan.kind, starts_at=_event_moment(day, plan.hours[0]),
            ends_at=_event_moment(day, plan.hours[1]), place=plan.place, video_link=plan.video_link,
            audience=plan.audience, region=region, capacity=plan.capacity, summary=plan.summary,
            body=_resolve_body(plan.body, {}, {}),
        )
        event = _publish(agenda, event, staff, _themes(plan.themes))
        created += 1
        for person in _registrants(plan, event, rng):
            if event.ends_at < timezone.now():
                EventRegistration.objects.get_or_create(event=event, user=person,
                                                        defaults={"status": EventRegistration.Status.CONFIRMED})
            else:
                services.register_for_event(event, person)
            registrations += 1
    return created, registrations


def _ensure_news(resources: ResourcesIndexPage, staff: User | None) -> int:
    index = _child(resources, NewsIndexPage, "actualites")
    if index is None:
        index = _publish(resources, NewsIndexPage(title="Actualités", slug="actualites",
                                                  intro="Les nouvelles de la fédération et du réseau."), staff)
    today = timezone.localdate()
    created = 0
    for plan in NEWS:
        if _child(index, NewsPage, plan.slug):
            continue
        _publish(index, NewsPage(title=plan.title, slug=plan.slug, date=today - timedelta(days=plan.days_before_seed),
                                 summary=plan.summary, body=_resolve_body(plan.body, {}, {})),
                 staff, _themes(plan.themes))
        created += 1
    return created


def _ensure_library(resources: ResourcesIndexPage, collections: dict[str, Collection], staff: User | None) -> None:
    if _child(resources, ToolLibraryPage, "boite-a-outils") is None:
        _publish(resources, ToolLibraryPage(
            title="Boîte à outils", slug="boite-a-outils", collection=collections[MEMBERS_COLLECTION_NAME],
            intro="Trames, modèles, chartes et fiches techniques à télécharger et à adapter."), staff)


def _generate(resources: ResourcesIndexPage, scale: int, rng: random.Random) -> tuple[int, int]:
    """Generated practice sheets and news for benchmarks: live pages added in bulk (no revision)."""
    wanted_guides = GENERATED_GUIDES_PER_SCALE * (scale - 1)
    wanted_news = GENERATED_NEWS_PER_SCALE * (scale - 1)
    themes = {t.slug: t for t in Theme.objects.all()}
    now = timezone.now()
    existing = set(GuidePage.objects.child_of(resources).filter(slug__startswith="fiche-pratique-")
                   .values_list("slug", flat=True))
    new_guides = 0
    for n in range(1, wanted_guides + 1):
        slug = f"fiche-pratique-{n:04d}"
        subject, theme_slug = GENERATED_SUBJECTS[(n - 1) % len(GENERATED_SUBJECTS)]
        if slug in existing:
            continue
        body = [para("Fiche pratique issue des échanges du réseau."),
                h2("Le cadre"), para(f"Repères pour : {subject.lower()}."),
                h2("En pratique"), checklist("Points clés", [f"Point {i} de la fiche {n}" for i in range(1, 5)]),
                faq([("Qui contacter ?", "Votre référent·e thématique ou la conseillère technique.")])]
        guide = GuidePage(title=f"Fiche pratique n° {n} : {subject}", slug=slug, live=True,
                          summary=f"Fiche pratique n° {n} sur le thème : {subject.lower()}.",
                          body=json.dumps(body), content_updated_on=REFERENCE_DATE - timedelta(days=rng.randrange(400)),
                          first_published_at=now, last_published_at=now)
        picked = {themes[theme_slug]} if theme_slug in themes else set()
        picked.add(themes[rng.choice(sorted(themes))])
        guide.themes.set(sorted(picked, key=lambda t: t.pk))
        resources.add_child(instance=guide)
        new_guides += 1
    index = _child(resources, NewsIndexPage, "actualites")
    if index is None:
        return new_guides, 0
    existing_news = set(NewsPage.objects.child_of(index).filter(slug__startswith="breve-")
                        .values_list("slug", flat=True))
    new_news = 0
    for n in range(1, wanted_news + 1):
        slug = f"breve-{n:04d}"
        if slug in existing_news:
            continue
        index.add_child(instance=NewsPage(
            title=f"Brève du réseau n° {n}", slug=slug, date=REFERENCE_DATE - timedelta(days=n), live=True,
            summary="Une nouvelle du réseau, générée pour les mesures de performance.",
            body=json.dumps([para("Texte de la brève.")]), first_published_at=now, last_published_at=now))
        new_news += 1
    return new_guides, new_news


def cms_counts() -> dict[str, int]:
    return {
        "guides": GuidePage.objects.live().count(),
        "documents": Document.objects.count(),
        "events": EventPage.objects.live().count(),
        "news": NewsPage.objects.live().count(),
        "registrations": EventRegistration.objects.exclude(status=EventRegistration.Status.CANCELLED).count(),
        "waiting": EventRegistration.objects.filter(status=EventRegistration.Status.WAITING).count(),
        "restricted": GuidePage.objects.filter(
            Q(view_restrictions__isnull=False) & ~Q(view_restrictions__groups__managed__key=MEMBERS_GROUP_KEY)
        ).distinct().count(),
    }


@transaction.atomic
def seed_cms(scale: int = 1, stdout=None) -> dict[str, int]:
    """Structure (cms.setup), collections and documents, guides, library, agenda, news, a pending review."""
    ensure_site_structure()
    rng = random.Random(SEED)
    staff = _staff()
    resources = ResourcesIndexPage.objects.get()
    collections = _ensure_collections()
    documents = _ensure_documents(collections, staff)
    guides = _ensure_guides(resources, documents, staff)
    _ensure_library(resources, collections, staff)
    events, registrations = _ensure_events(resources, staff, rng)
    news = _ensure_news(resources, staff)
    pending = _ensure_pending_review(resources)
    generated_guides = generated_news = 0
    if scale > 1:
        generated_guides, generated_news = _generate(resources, scale, rng)
    counts = cms_counts()
    if stdout is not None:
        stdout.write(f"Ressources : {counts['guides']} guides, {counts['documents']} documents, {counts['events']} "
                     f"événements, {counts['news']} actualités ({guides} guides, {events} événements, {news} "
                     f"actualités, {registrations} inscriptions créés ; {generated_guides} fiches et "
                     f"{generated_news} brèves générées{' ; un guide en relecture' if pending else ''}).")
    return counts
