"""Demo data: three organizations of one town, with people, stock, history and projects.

Everything is written through the services, as a real instance would be, so the demo
also exercises the same checks. Seeded: the same seed gives the same data.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from decimal import Decimal

from fabcom import clock
from fabcom.accounts import add_user_to_org
from fabcom.auth.models import User
from fabcom.inventory.models import Condition, MovementKind, SharingMode, Unit, Visibility
from fabcom.inventory.services import create_item, create_location, record_movement, seed_categories
from fabcom.members.models import Membership, PaymentMethod
from fabcom.members.services import record_fee
from fabcom.module_system.hooks import call_async, plugin_manager
from fabcom.network.services import request_partnership, respond_partnership
from fabcom.orgs.models import Organization
from fabcom.orgs.services import create_organization
from fabcom.permissions import system_principal
from fabcom.projects.models import NeedKind, ProjectStatus, TaskStatus
from fabcom.projects.services import add_need, add_participant, add_partner_organization, create_project, create_task

DEMO_PASSWORD = "fabcom-demo-2026"  # noqa: S105 - documented demo password, demo data only

ORGANIZATIONS = [
    {
        "slug": "recyclerie-du-canal",
        "name": "La Recyclerie du Canal",
        "kind": "ressourcerie",
        "description": "Ressourcerie associative : collecte, valorisation et vente d'objets de seconde main.",
        "address": "12 quai de la Loire",
        "postal_code": "69007",
        "city": "Lyon",
        "latitude": Decimal("45.746100"),
        "longitude": Decimal("4.842500"),
        "email": "contact@recyclerie-du-canal.example",
    },
    {
        "slug": "fablab-des-pentes",
        "name": "Fablab des Pentes",
        "kind": "fablab",
        "description": "Atelier de fabrication numérique ouvert à toutes et tous : découpe laser, impression 3D, électronique.",
        "address": "3 montée de la Grande-Côte",
        "postal_code": "69001",
        "city": "Lyon",
        "latitude": Decimal("45.770300"),
        "longitude": Decimal("4.830100"),
        "email": "bonjour@fablab-des-pentes.example",
    },
    {
        "slug": "la-ruche-coworking",
        "name": "La Ruche",
        "kind": "coworking",
        "description": "Espace de travail partagé de l'économie sociale et solidaire.",
        "address": "45 rue Paul Bert",
        "postal_code": "69003",
        "city": "Lyon",
        "latitude": Decimal("45.758900"),
        "longitude": Decimal("4.851200"),
        "email": "accueil@la-ruche.example",
    },
]

# (email, name, organization slug, role, description for the README / CLI)
PEOPLE = [
    (
        "admin@fabcom.example",
        "Alex Admin",
        "recyclerie-du-canal",
        "owner",
        "instance admin, owner of La Recyclerie du Canal",
    ),
    (
        "marie@recyclerie-du-canal.example",
        "Marie Dupont",
        "recyclerie-du-canal",
        "admin",
        "admin of La Recyclerie du Canal",
    ),
    (
        "lucas@recyclerie-du-canal.example",
        "Lucas Martin",
        "recyclerie-du-canal",
        "staff",
        "staff at La Recyclerie du Canal",
    ),
    (
        "amina@recyclerie-du-canal.example",
        "Amina Benali",
        "recyclerie-du-canal",
        "volunteer",
        "volunteer at La Recyclerie du Canal",
    ),
    ("karim@fablab-des-pentes.example", "Karim Haddad", "fablab-des-pentes", "owner", "owner of Fablab des Pentes"),
    ("julie@fablab-des-pentes.example", "Julie Moreau", "fablab-des-pentes", "staff", "staff at Fablab des Pentes"),
    ("sophie@la-ruche.example", "Sophie Laurent", "la-ruche-coworking", "owner", "owner of La Ruche (coworking)"),
    ("paul@example.org", "Paul Girard", "recyclerie-du-canal", "member", "member (adhérent) of La Recyclerie du Canal"),
]
DEMO_ACCOUNTS = [(email, description) for email, _, _, _, description in PEOPLE]

# (category code, titles, unit, unit weight kg range, unit value range €)
RESSOURCERIE_STOCK = [
    (
        "C_15",
        [
            "Chaise en bois",
            "Table basse",
            "Commode trois tiroirs",
            "Bibliothèque en pin",
            "Fauteuil club",
            "Buffet de cuisine",
            "Bureau d'écolier",
            "Tabouret de bar",
        ],
        Unit.PIECE,
        (3, 45),
        (5, 80),
    ),
    (
        "C_18",
        ["Lot d'assiettes", "Service à café", "Verres à pied (6)", "Saladier en grès", "Plat à gratin"],
        Unit.SET,
        (1, 6),
        (2, 15),
    ),
    (
        "C_11",
        ["Romans de poche", "Bandes dessinées", "Livres jeunesse", "Beaux livres d'art", "Guides de voyage"],
        Unit.KG,
        None,
        (1, 4),
    ),
    ("C_22", ["Vêtements adulte", "Vêtements enfant", "Manteaux d'hiver", "Robes d'été"], Unit.KG, None, (2, 6)),
    ("C_24", ["Chaussures de ville", "Baskets enfant", "Bottes de pluie"], Unit.PIECE, (0.5, 1.5), (3, 12)),
    (
        "C_03",
        ["Grille-pain", "Bouilloire", "Mixeur plongeant", "Cafetière filtre", "Aspirateur traîneau"],
        Unit.PIECE,
        (1, 7),
        (5, 25),
    ),
    (
        "C_21",
        ["Jeu de société", "Puzzle 1000 pièces", "Peluche", "Circuit de voitures", "Poupée"],
        Unit.PIECE,
        (0.2, 2),
        (1, 10),
    ),
    ("C_26", ["Vélo de ville", "VTT adulte", "Vélo enfant 16 pouces", "Draisienne"], Unit.PIECE, (5, 16), (20, 120)),
    ("C_17", ["Lampe de chevet", "Lampadaire", "Suspension en rotin"], Unit.PIECE, (0.5, 5), (4, 30)),
    ("C_16", ["Cadre photo", "Miroir ancien", "Vase en céramique", "Bougeoirs"], Unit.PIECE, (0.3, 6), (2, 25)),
    (
        "C_13",
        ["Perceuse à percussion", "Caisse à outils", "Scie égoïne", "Tondeuse manuelle"],
        Unit.PIECE,
        (1, 12),
        (5, 40),
    ),
    ("C_19", ["Draps et housses", "Rideaux", "Nappes"], Unit.KG, None, (2, 5)),
]
FABLAB_STOCK = [
    (
        "C_09",
        [
            "Imprimante 3D Prusa",
            "Découpeuse laser 40 W",
            "Fraiseuse CNC",
            "Plotter de découpe vinyle",
            "Poste à souder électronique",
            "Oscilloscope",
        ],
        Unit.PIECE,
        (4, 60),
        (200, 3000),
    ),
    (
        "C_13",
        ["Perceuse à colonne", "Scie sauteuse", "Ponceuse orbitale", "Serre-joints (lot)", "Visseuse sans fil"],
        Unit.PIECE,
        (1, 30),
        (20, 300),
    ),
    (
        "C_05",
        ["Raspberry Pi 4", "Carte Arduino Uno", "Ordinateur portable reconditionné", "Écran 24 pouces"],
        Unit.PIECE,
        (0.05, 5),
        (10, 250),
    ),
    (
        "C_15",
        ["Contreplaqué peuplier 3 mm", "Chutes de médium", "Planches de chêne de récupération"],
        Unit.KG,
        None,
        (1, 4),
    ),
    ("C_27", ["Filament PLA (bobine)", "Filament PETG (bobine)"], Unit.PIECE, (1, 1.2), (18, 30)),
]
COWORKING_STOCK = [
    (
        "C_15",
        ["Bureau assis-debout", "Chaise ergonomique", "Table de réunion", "Caisson à roulettes", "Canapé d'accueil"],
        Unit.PIECE,
        (8, 40),
        (40, 400),
    ),
    ("C_04", ["Écran de visioconférence", "Vidéoprojecteur", "Écran 27 pouces"], Unit.PIECE, (2, 12), (80, 600)),
    ("C_03", ["Machine à café", "Bouilloire", "Micro-ondes"], Unit.PIECE, (1, 12), (20, 200)),
]

DONORS = [
    "Particulier",
    "Mme Roux",
    "M. Bernard",
    "Déchèterie de Gerland",
    "Association Entraide 69",
    "Entreprise Menuiserie Vidal",
    "Collecte à domicile",
    "Vide-grenier de la Croix-Rousse",
]


def _decimal(rng: random.Random, low: float, high: float, places: int) -> Decimal:
    return Decimal(str(round(rng.uniform(low, high), places)))


async def _stock(
    rng: random.Random,
    org: Organization,
    catalogue: Sequence[tuple[str, list[str], Unit, tuple[float, float] | None, tuple[float, float]]],
    count: int,
    locations: list[int],
    sharing: list[str],
    public_share: float,
) -> int:
    system = system_principal()
    now = clock.now()
    created = 0
    for n in range(count):
        code, titles, unit, weight_range, value_range = catalogue[n % len(catalogue)]
        title = rng.choice(titles)
        visibility = (
            Visibility.PUBLIC if rng.random() < public_share else rng.choice([Visibility.PARTNERS, Visibility.PRIVATE])
        )
        item = await create_item(
            system,
            org.id,
            {
                "title": title,
                "description": f"{title} — {rng.choice(['bon état', 'très bon état', 'à réviser', 'comme neuf'])}.",
                "category_code": code,
                "location_id": rng.choice(locations),
                "unit": unit,
                "unit_weight_kg": _decimal(rng, *weight_range, 2) if weight_range else None,
                "unit_value": _decimal(rng, *value_range, 2),
                "condition": rng.choice(
                    [Condition.VERY_GOOD, Condition.GOOD, Condition.GOOD, Condition.FAIR, Condition.FOR_REPAIR]
                ),
                "visibility": visibility,
                "sharing_modes": rng.sample(sharing, k=rng.randint(1, len(sharing))),
            },
        )
        # History over the last six months: an intake, then some sales or gifts.
        start = now - dt.timedelta(days=rng.randint(20, 180), hours=rng.randint(0, 8))
        bulk = unit == Unit.KG
        quantity = _decimal(rng, 2, 40, 1) if bulk else Decimal(rng.randint(1, 6))
        await record_movement(
            system,
            item.id,
            {
                "kind": rng.choice([MovementKind.DONATION, MovementKind.DONATION, MovementKind.COLLECTION]),
                "quantity": quantity,
                "occurred_at": start,
                "counterparty": rng.choice(DONORS),
            },
        )
        remaining = quantity
        for step in range(rng.randint(0, 3)):
            if remaining <= 0:
                break
            out = min(remaining, _decimal(rng, 0.5, float(remaining), 1) if bulk else Decimal(1))
            await record_movement(
                system,
                item.id,
                {
                    "kind": rng.choice(
                        [MovementKind.SALE, MovementKind.SALE, MovementKind.GIFT, MovementKind.RECYCLING]
                    ),
                    "quantity": out,
                    "occurred_at": start + dt.timedelta(days=3 + step * 4),
                },
            )
            remaining -= out
        created += 1
    return created


async def load_demo(seed: int = 2026, if_empty: bool = False) -> str:
    """Load the demo data; returns a one-line summary ("" when skipped)."""
    if if_empty and await Organization.exists():
        return ""
    rng = random.Random(seed)
    system = system_principal()
    await seed_categories()
    orgs = {}
    for data in ORGANIZATIONS:
        orgs[data["slug"]] = await create_organization(system, data)
    for email, name, slug, role, _ in PEOPLE:
        await add_user_to_org(email, slug, role, name, DEMO_PASSWORD)
    await User.filter(email="admin@fabcom.example").update(is_instance_admin=True)

    ressourcerie, fablab, coworking = (orgs[d["slug"]] for d in ORGANIZATIONS)
    locations: dict[str, list[int]] = {}
    for org, names in (
        (ressourcerie, ["Réserve", "Boutique", "Atelier de tri", "Quai de déchargement"]),
        (fablab, ["Atelier bois", "Espace numérique", "Stock matériaux"]),
        (coworking, ["Open space", "Salle de réunion", "Cuisine"]),
    ):
        locations[org.slug] = [(await create_location(system, org.id, {"name": n})).id for n in names]

    items = await _stock(
        rng,
        ressourcerie,
        RESSOURCERIE_STOCK,
        220,
        locations[ressourcerie.slug],
        [SharingMode.GIVE, SharingMode.SELL],
        0.3,
    )
    items += await _stock(
        rng, fablab, FABLAB_STOCK, 60, locations[fablab.slug], [SharingMode.LEND, SharingMode.USE_ON_SITE], 0.4
    )
    items += await _stock(
        rng, coworking, COWORKING_STOCK, 40, locations[coworking.slug], [SharingMode.LEND, SharingMode.USE_ON_SITE], 0.2
    )

    link = await request_partnership(
        system, ressourcerie.id, {"partner_slug": fablab.slug, "message": "Travaillons ensemble sur le réemploi !"}
    )
    await respond_partnership(system, link.id, "accept")

    # Fees for the ressourcerie's members this year, one member late.
    year = clock.today().year
    for membership in await Membership.filter(organization_id=ressourcerie.id).order_by("id"):
        if membership.role == "volunteer":
            continue
        await record_fee(
            system,
            membership.id,
            {
                "amount": Decimal("15.00"),
                "period_start": dt.date(year, 1, 1),
                "period_end": dt.date(year, 12, 31),
                "paid_on": dt.date(year, 1, rng.randint(5, 28)),
                "method": rng.choice(list(PaymentMethod)),
            },
        )

    users = {u.email: u for u in await User.all()}
    bikes = await create_project(
        system,
        fablab.id,
        {
            "title": "Atelier vélo solidaire",
            "summary": "Remettre en état les vélos collectés par la ressourcerie et former les habitants à l'entretien.",
            "description": "## Objectif\n\nChaque mois, **10 vélos** réparés et remis en circulation.\n\n"
            "## Comment participer\n\n- Venir aux ateliers du samedi\n- Donner des pièces détachées",
            "status": ProjectStatus.ACTIVE,
            "visibility": Visibility.PUBLIC,
            "licence": "CC-BY-SA-4.0",
            "starts_on": clock.today() - dt.timedelta(days=60),
        },
    )
    await add_partner_organization(system, bikes.id, ressourcerie.id)
    await add_participant(
        system, bikes.id, {"user_id": users["karim@fablab-des-pentes.example"].id, "role": "coordination"}
    )
    await add_participant(
        system,
        bikes.id,
        {
            "user_id": users["lucas@recyclerie-du-canal.example"].id,
            "organization_id": ressourcerie.id,
            "role": "collecte des vélos",
        },
    )
    for position, (title, status, days) in enumerate(
        [
            ("Trier les vélos collectés en mars", TaskStatus.DONE, -20),
            ("Commander des chambres à air", TaskStatus.DOING, 5),
            ("Préparer la fiche d'entretien", TaskStatus.TODO, 12),
            ("Organiser la bourse aux vélos", TaskStatus.TODO, 40),
        ]
    ):
        await create_task(
            system,
            bikes.id,
            {
                "title": title,
                "status": status,
                "position": position,
                "due_on": clock.today() + dt.timedelta(days=days),
                "assignee_id": users["julie@fablab-des-pentes.example"].id,
            },
        )
    await add_need(
        system,
        bikes.id,
        {"kind": NeedKind.ITEM, "category_code": "C_26", "quantity": 10, "description": "Vélos adultes à réparer"},
    )
    await add_need(
        system,
        bikes.id,
        {"kind": NeedKind.SKILL, "skill": "Mécanique vélo", "description": "Bénévoles pour encadrer les ateliers"},
    )

    furniture = await create_project(
        system,
        ressourcerie.id,
        {
            "title": "Mobilier upcyclé pour La Ruche",
            "summary": "Transformer des meubles collectés en mobilier de coworking.",
            "description": "Des bureaux et des étagères à partir de meubles donnés, fabriqués avec le fablab.",
            "status": ProjectStatus.IDEA,
            "visibility": Visibility.PARTNERS,
        },
    )
    await add_partner_organization(system, furniture.id, fablab.id)
    await create_task(
        system,
        furniture.id,
        {
            "title": "Relever les besoins de La Ruche",
            "status": TaskStatus.TODO,
            "due_on": clock.today() + dt.timedelta(days=7),
        },
    )
    await add_need(
        system,
        furniture.id,
        {
            "kind": NeedKind.ITEM,
            "category_code": "C_15",
            "quantity": 6,
            "description": "Bureaux et tables en bois massif",
        },
    )

    internal = await create_project(
        system,
        coworking.id,
        {
            "title": "Réaménagement de l'open space",
            "status": ProjectStatus.ACTIVE,
            "visibility": Visibility.PRIVATE,
        },
    )
    await create_task(system, internal.id, {"title": "Devis cloisons acoustiques", "status": TaskStatus.DOING})

    # Each enabled module adds its own demo data.
    await call_async(plugin_manager().hook.fabcom_load_demo_data, context={"organizations": orgs, "users": users})
    return f"{len(orgs)} organizations, {len(PEOPLE)} accounts, {items} items, 3 projects"
