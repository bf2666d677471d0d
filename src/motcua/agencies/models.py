"""Administrative units, agencies and their working calendar.

The working calendar is data, not code: national days off and make-up workdays (from the annual
notices) live in ``CalendarDay`` with ``agency=None``; an agency may override single dates; an
agency's working sessions have date ranges. ``agencies.calendar`` turns these rows into a
``core.worktime.WorkCalendar``.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from motcua.core import codes
from motcua.core.text import fold


class AdministrativeUnit(models.Model):
    """A province or commune (or, historically, a district) with its validity dates.

    Units after 01/7/2025 are two levels (province → commune). Units of the old three-level
    list are kept with ``valid_to`` = 2025-06-30 so old addresses and dossiers stay readable.
    GSO codes can be reused across eras, so a code is unique only together with its level
    and the start of its validity.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("Tỉnh, thành phố")
        DISTRICT = "district", _("Quận, huyện (trước 01/7/2025)")
        COMMUNE = "commune", _("Xã, phường, đặc khu")

    code = models.CharField(_("mã"), max_length=10)
    level = models.CharField(_("cấp"), max_length=10, choices=Level.choices)
    name = models.CharField(_("tên"), max_length=200)
    full_name = models.CharField(_("tên đầy đủ"), max_length=255)
    name_en = models.CharField(_("tên tiếng Anh"), max_length=200, blank=True)
    unit_type = models.CharField(_("loại đơn vị"), max_length=100, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("đơn vị cấp trên"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    valid_from = models.DateField(_("hiệu lực từ"), null=True, blank=True)
    valid_to = models.DateField(_("hiệu lực đến"), null=True, blank=True)
    formed_from = models.TextField(_("hình thành từ (trước sắp xếp)"), blank=True)
    search_text = models.CharField(max_length=500, editable=False, db_index=True, default="")

    class Meta:
        verbose_name = _("đơn vị hành chính")
        verbose_name_plural = _("đơn vị hành chính")
        ordering = ["level", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["level", "code", "valid_from"], name="unit_unique_code_per_era"
            ),
            # NULLs are distinct in a unique index, so units of unknown start get their own.
            models.UniqueConstraint(
                fields=["level", "code"],
                condition=Q(valid_from__isnull=True),
                name="unit_unique_code_no_start",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="unit_valid_range",
            ),
        ]
        indexes = [models.Index(fields=["parent", "level"])]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs):
        self.search_text = fold(f"{self.code} {self.full_name} {self.name_en}")
        super().save(*args, **kwargs)

    def is_valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class Agency(models.Model):
    """An agency (cơ quan, đơn vị) that receives or processes dossiers."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("Cấp tỉnh")
        COMMUNE = "commune", _("Cấp xã")
        OTHER = "other", _("Khác")

    class Kind(models.TextChoices):
        SERVICE_CENTRE = "service_centre", _("Trung tâm Phục vụ hành chính công")
        PEOPLES_COMMITTEE = "peoples_committee", _("Ủy ban nhân dân")
        DEPARTMENT = "department", _("Sở, ngành")
        OTHER = "other", _("Khác")

    name = models.CharField(_("tên cơ quan"), max_length=255)
    short_name = models.CharField(_("tên viết tắt"), max_length=100, blank=True)
    electronic_id = models.CharField(
        _("mã định danh điện tử"),
        max_length=40,
        unique=True,
        help_text=_("Mã định danh theo QĐ 20/2020/QĐ-TTg, ví dụ 000.00.00.H56."),
    )
    level = models.CharField(_("cấp"), max_length=10, choices=Level.choices)
    kind = models.CharField(_("loại"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    unit = models.ForeignKey(
        AdministrativeUnit,
        verbose_name=_("địa bàn"),
        on_delete=models.PROTECT,
        related_name="agencies",
        help_text=_("Tỉnh hoặc xã mà cơ quan phục vụ."),
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("cơ quan cấp trên"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    address = models.CharField(_("địa chỉ"), max_length=500, blank=True)
    phone = models.CharField(_("điện thoại"), max_length=30, blank=True)
    email = models.EmailField(_("thư điện tử"), blank=True)
    is_active = models.BooleanField(_("đang hoạt động"), default=True)
    search_text = models.CharField(max_length=500, editable=False, db_index=True, default="")

    class Meta:
        verbose_name = _("cơ quan")
        verbose_name_plural = _("cơ quan")
        ordering = ["level", "name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.electronic_id = self.electronic_id.strip()
        self.search_text = fold(f"{self.electronic_id} {self.name} {self.short_name}")
        super().save(*args, **kwargs)

    def clean(self):
        try:
            codes.parse_agency_id(self.electronic_id)
        except codes.InvalidCode as exc:
            raise ValidationError({"electronic_id": exc.message}) from exc

    @property
    def electronic_id_parts(self) -> codes.AgencyId | None:
        """The parsed view of the identifier, or None if it does not follow the known shape."""
        try:
            return codes.parse_agency_id(self.electronic_id)
        except codes.InvalidCode:
            return None


class Department(models.Model):
    """A department (phòng, ban) of an agency."""

    agency = models.ForeignKey(
        Agency, verbose_name=_("cơ quan"), on_delete=models.CASCADE, related_name="departments"
    )
    code = models.CharField(_("mã"), max_length=40, blank=True)
    name = models.CharField(_("tên phòng, ban"), max_length=255)
    is_active = models.BooleanField(_("đang hoạt động"), default=True)

    class Meta:
        verbose_name = _("phòng, ban")
        verbose_name_plural = _("phòng, ban")
        ordering = ["agency", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="department_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} — {self.agency.short_name or self.agency.name}"


class Counter(models.Model):
    """A counter (quầy) of a service centre or one-stop desk."""

    agency = models.ForeignKey(
        Agency, verbose_name=_("cơ quan"), on_delete=models.CASCADE, related_name="counters"
    )
    number = models.PositiveSmallIntegerField(_("số quầy"))
    name = models.CharField(_("tên quầy"), max_length=255, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("phòng, ban phụ trách"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="counters",
    )
    is_active = models.BooleanField(_("đang hoạt động"), default=True)

    class Meta:
        verbose_name = _("quầy")
        verbose_name_plural = _("quầy")
        ordering = ["agency", "number"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "number"], name="counter_unique_number")
        ]

    def __str__(self) -> str:
        return f"Quầy {self.number:02d} — {self.name or self.agency.name}"


class WorkingSession(models.Model):
    """One working session of an agency on one weekday, valid over a date range.

    An agency with no rows works the default sessions (Monday–Friday 08:00–12:00 and
    13:00–17:00). Rows valid on a date replace the default for that date entirely, which is
    how summer/winter hours or a province's own hours are expressed.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Thứ Hai")
        TUESDAY = 1, _("Thứ Ba")
        WEDNESDAY = 2, _("Thứ Tư")
        THURSDAY = 3, _("Thứ Năm")
        FRIDAY = 4, _("Thứ Sáu")
        SATURDAY = 5, _("Thứ Bảy")
        SUNDAY = 6, _("Chủ Nhật")

    agency = models.ForeignKey(
        Agency, verbose_name=_("cơ quan"), on_delete=models.CASCADE, related_name="sessions"
    )
    weekday = models.PositiveSmallIntegerField(_("thứ"), choices=Weekday.choices)
    start = models.TimeField(_("bắt đầu"))
    end = models.TimeField(_("kết thúc"))
    valid_from = models.DateField(_("áp dụng từ"), null=True, blank=True)
    valid_to = models.DateField(_("áp dụng đến"), null=True, blank=True)

    class Meta:
        verbose_name = _("buổi làm việc")
        verbose_name_plural = _("buổi làm việc")
        ordering = ["agency", "valid_from", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="session_order"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="session_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self):
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("Giờ kết thúc phải sau giờ bắt đầu.")})
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("Ngày kết thúc phải sau ngày bắt đầu.")})
        if self.agency_id and self.start and self.end and self.weekday is not None:
            # Overlapping sessions would make the clock count the same hour twice.
            others = WorkingSession.objects.filter(
                agency_id=self.agency_id,
                weekday=self.weekday,
                start__lt=self.end,
                end__gt=self.start,
            ).exclude(pk=self.pk)
            if self.valid_to:
                others = others.filter(
                    Q(valid_from__isnull=True) | Q(valid_from__lte=self.valid_to)
                )
            if self.valid_from:
                others = others.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=self.valid_from))
            if others.exists():
                raise ValidationError(
                    _(
                        "Buổi làm việc này trùng giờ với một buổi khác"
                        " của cùng cơ quan trong cùng thứ."
                    )
                )


class CalendarDay(models.Model):
    """A day off or a make-up workday: national (``agency`` empty) or an agency's override.

    National rows come from the annual notices (holidays-vn.csv); an agency row for the same
    date wins over the national row for that agency.
    """

    class Kind(models.TextChoices):
        DAY_OFF = "day_off", _("Ngày nghỉ")
        WORKDAY = "workday", _("Ngày làm việc bù")

    agency = models.ForeignKey(
        Agency,
        verbose_name=_("cơ quan (để trống: toàn quốc)"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calendar_days",
    )
    date = models.DateField(_("ngày"))
    kind = models.CharField(_("loại"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("tên ngày"), max_length=255, blank=True)
    basis = models.CharField(_("căn cứ"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("ngày nghỉ / ngày làm bù")
        verbose_name_plural = _("lịch nghỉ lễ và làm bù")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["date"], condition=Q(agency__isnull=True), name="calendar_national_date"
            ),
            models.UniqueConstraint(
                fields=["agency", "date"],
                condition=Q(agency__isnull=False),
                name="calendar_agency_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.get_kind_display()}"
