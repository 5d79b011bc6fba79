"""Intakes (collectes), outflows (sorties), sales and cash closings of a ressourcerie.
Weights are Decimal kg, money Decimal euros."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class DonorKind(StrEnum):
    ANONYMOUS = "anonymous"
    PERSON = "person"
    ORGANIZATION = "organization"


class Destination(StrEnum):
    SALE = "sale"  # réemploi through the shop
    PARTNER_GIFT = "partner_gift"  # réemploi through another association
    RECYCLING = "recycling"  # a REP channel (filière) or a buyer
    WASTE = "waste"  # ultimate waste: landfill or incineration


REUSE = (Destination.SALE, Destination.PARTNER_GIFT)


class PaymentMode(StrEnum):
    CASH = "cash"
    CARD = "card"
    CHEQUE = "cheque"
    LOCAL_CURRENCY = "local_currency"
    OTHER = "other"


DEFAULT_COLLECTION_MODES = {
    "apport_volontaire": ("Apport volontaire", "Drop-off"),
    "collecte_domicile": ("Collecte à domicile", "Home collection"),
    "decheterie": ("Déchèterie", "Recycling centre"),
    "pied_immeuble": ("Pied d'immeuble", "Building collection"),
    "entreprise": ("Entreprise", "Business"),
    "brocante": ("Brocante", "Flea market"),
    "autre": ("Autre", "Other"),
}


class CollectionMode(Model):
    """How things reached the ressourcerie. Each site configures its own list."""

    id = fields.IntField(primary_key=True)
    organization = fields.ForeignKeyField("fabcom.Organization", related_name=False, on_delete=fields.CASCADE)
    code = fields.CharField(max_length=40)
    label_fr = fields.CharField(max_length=80)
    label_en = fields.CharField(max_length=80)
    active = fields.BooleanField(default=True)

    class Meta:
        table = "ressourcerie_collection_mode"
        unique_together = (("organization", "code"),)
        ordering = ["id"]


class Tare(Model):
    """A container weighed with what it holds (a crate, a trolley): its weight is taken off."""

    id = fields.IntField(primary_key=True)
    organization = fields.ForeignKeyField("fabcom.Organization", related_name=False, on_delete=fields.CASCADE)
    name = fields.CharField(max_length=80)
    weight_kg = fields.DecimalField(max_digits=8, decimal_places=3)
    active = fields.BooleanField(default=True)

    class Meta:
        table = "ressourcerie_tare"
        unique_together = (("organization", "name"),)
        ordering = ["name"]


class Intake(Model):
    """One arrival (a drop-off, a collection round), weighed in one or more lines."""

    id = fields.IntField(primary_key=True)
    organization = fields.ForeignKeyField("fabcom.Organization", related_name=False, on_delete=fields.CASCADE)
    mode = fields.ForeignKeyField("ressourcerie.CollectionMode", related_name="intakes", on_delete=fields.RESTRICT)
    occurred_at = fields.DatetimeField()
    donor_kind = fields.CharEnumField(DonorKind, max_length=12, default=DonorKind.ANONYMOUS)
    donor_name = fields.CharField(max_length=200, default="")
    donor_organization = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    collection_point = fields.CharField(max_length=200, default="")
    note = fields.CharField(max_length=500, default="")
    author = fields.ForeignKeyField("fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ressourcerie_intake"
        ordering = ["-occurred_at", "-id"]
        indexes = (("organization_id", "occurred_at"),)


class IntakeLine(Model):
    """A weighing: gross weight as read on the scale, the tare taken off, net stored."""

    id = fields.IntField(primary_key=True)
    intake = fields.ForeignKeyField("ressourcerie.Intake", related_name="lines", on_delete=fields.CASCADE)
    category = fields.ForeignKeyField("fabcom.Category", related_name=False, on_delete=fields.RESTRICT)
    gross_kg = fields.DecimalField(max_digits=10, decimal_places=3)
    tare_kg = fields.DecimalField(max_digits=10, decimal_places=3, default=0)
    net_kg = fields.DecimalField(max_digits=10, decimal_places=3)
    # An object worth following on its own becomes a core Item, traced from here.
    item = fields.ForeignKeyField("fabcom.Item", related_name=False, null=True, on_delete=fields.SET_NULL)
    author = fields.ForeignKeyField("fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ressourcerie_intake_line"
        indexes = (("intake_id",),)
        ordering = ["id"]


class Outflow(Model):
    """Things leaving, by destination: the shop, a partner, a recycling channel, waste."""

    id = fields.IntField(primary_key=True)
    organization = fields.ForeignKeyField("fabcom.Organization", related_name=False, on_delete=fields.CASCADE)
    occurred_at = fields.DatetimeField()
    destination = fields.CharEnumField(Destination, max_length=14)
    # For recycling: the buyer's name when it is not the category's REP channel.
    buyer = fields.CharField(max_length=200, default="")
    partner_organization = fields.ForeignKeyField(
        "fabcom.Organization", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    note = fields.CharField(max_length=500, default="")
    author = fields.ForeignKeyField("fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ressourcerie_outflow"
        ordering = ["-occurred_at", "-id"]
        indexes = (("organization_id", "occurred_at"),)


class OutflowLine(Model):
    id = fields.IntField(primary_key=True)
    outflow = fields.ForeignKeyField("ressourcerie.Outflow", related_name="lines", on_delete=fields.CASCADE)
    category = fields.ForeignKeyField("fabcom.Category", related_name=False, on_delete=fields.RESTRICT)
    weight_kg = fields.DecimalField(max_digits=10, decimal_places=3)
    item = fields.ForeignKeyField("fabcom.Item", related_name=False, null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ressourcerie_outflow_line"
        indexes = (("outflow_id",),)
        ordering = ["id"]


class Sale(Model):
    """A till receipt. ``number`` runs per organization: receipts are numbered without gaps."""

    id = fields.IntField(primary_key=True)
    organization = fields.ForeignKeyField("fabcom.Organization", related_name=False, on_delete=fields.CASCADE)
    number = fields.IntField()
    occurred_at = fields.DatetimeField()
    payment_mode = fields.CharEnumField(PaymentMode, max_length=16)
    total = fields.DecimalField(max_digits=10, decimal_places=2)
    cashier = fields.ForeignKeyField("fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    outflow = fields.ForeignKeyField("ressourcerie.Outflow", related_name=False, null=True, on_delete=fields.SET_NULL)
    closing = fields.ForeignKeyField(
        "ressourcerie.CashClosing", related_name="sales", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ressourcerie_sale"
        indexes = (("closing_id",),)
        unique_together = (("organization", "number"),)
        ordering = ["-number"]


class ReceiptCounter(Model):
    """The last receipt number of an organization's till. Incremented inside the sale's
    transaction, so that receipts are numbered without gaps or duplicates."""

    id = fields.IntField(primary_key=True)
    organization = fields.OneToOneField("fabcom.Organization", related_name=False, on_delete=fields.CASCADE)
    last_number = fields.IntField(default=0)

    class Meta:
        table = "ressourcerie_receipt_counter"


class SaleLine(Model):
    """A weighed lot (a category and a weight) or an inventory item."""

    id = fields.IntField(primary_key=True)
    sale = fields.ForeignKeyField("ressourcerie.Sale", related_name="lines", on_delete=fields.CASCADE)
    item = fields.ForeignKeyField("fabcom.Item", related_name=False, null=True, on_delete=fields.SET_NULL)
    category = fields.ForeignKeyField("fabcom.Category", related_name=False, null=True, on_delete=fields.SET_NULL)
    label = fields.CharField(max_length=200)
    quantity = fields.DecimalField(max_digits=10, decimal_places=3, default=1)
    weight_kg = fields.DecimalField(max_digits=10, decimal_places=3, null=True)
    amount = fields.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        table = "ressourcerie_sale_line"
        indexes = (("sale_id",),)
        ordering = ["id"]


class CashClosing(Model):
    """The till closed for a day: totals per payment mode and the cash counted.

    With the starting float (fond de caisse: the change put in the drawer before the first
    sale), the gap is counted − (float + cash sales); closings made before the float was
    asked have none (None), their gap counted from the sales alone."""

    id = fields.IntField(primary_key=True)
    organization = fields.ForeignKeyField("fabcom.Organization", related_name=False, on_delete=fields.CASCADE)
    day = fields.DateField()
    totals = fields.JSONField(default=dict)  # payment mode -> "12.50"
    sales_count = fields.IntField(default=0)
    cash_float = fields.DecimalField(max_digits=10, decimal_places=2, null=True)
    cash_counted = fields.DecimalField(max_digits=10, decimal_places=2, null=True)
    cash_difference = fields.DecimalField(max_digits=10, decimal_places=2, null=True)
    closed_by = fields.ForeignKeyField("fabcom.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "ressourcerie_cash_closing"
        unique_together = (("organization", "day"),)
        ordering = ["-day"]


class TillDraft(Model):
    """The sale a cashier is ringing up at a site, kept between their requests so that a
    reload, or a tablet gone to sleep, loses none of its lines. One per cashier and site
    (two tablets, two cashiers, two sales). A scratch pad, not a record: replaced on every
    line, deleted when the sale is validated or cancelled; the sale itself is audited."""

    id = fields.IntField(primary_key=True)
    organization = fields.ForeignKeyField("fabcom.Organization", related_name=False, on_delete=fields.CASCADE)
    user = fields.ForeignKeyField("fabcom.User", related_name=False, on_delete=fields.CASCADE)
    # The lines as the page's hidden fields carry them ("lot:C_22:2.5:5", "item:12:15.00").
    lines = fields.JSONField(default=list)
    payment_mode = fields.CharField(max_length=16, default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "ressourcerie_till_draft"
        unique_together = (("organization", "user"),)
        indexes = (("user_id",),)


class SiteSettings(Model):
    """A site's choices for this module. ``share_figures``: its partners' reports may add
    its kg collected and diverted to their network totals (opt-in; nothing else is shared)."""

    id = fields.IntField(primary_key=True)
    organization = fields.OneToOneField("fabcom.Organization", related_name=False, on_delete=fields.CASCADE)
    share_figures = fields.BooleanField(default=False)
    # The fingerprint of the figures last published to partners ("" when none are out there).
    figures_digest = fields.CharField(max_length=64, default="", db_default="")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "ressourcerie_site_settings"


class RemoteFigures(Model):
    """A remote partner's monthly figures, as it published them (read-only mirror, one row
    per partner): ``months`` maps ``"2026-03"`` to ``{"in", "reused", "recycled"}`` in kg
    (as text). Written only by the federation handler, for the sender's own figures."""

    id = fields.IntField(primary_key=True)
    uri = fields.CharField(max_length=500, unique=True)
    organization = fields.ForeignKeyField("fabcom.Organization", related_name=False, on_delete=fields.CASCADE)
    period_start = fields.DateField()
    period_end = fields.DateField()
    months = fields.JSONField(default=dict)
    remote_updated_at = fields.DatetimeField()
    received_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "ressourcerie_remote_figures"
        indexes = (("organization_id",),)
