"""Pages of the halls. Everything works without JavaScript; topic-live.js only adds live updates.

Views parse input, check the permission (to choose what to show), call one service and render.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Avg, Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.files import serve_file
from core.refusals import say_refusal
from deliberation import selectors, services
from deliberation.forms import (
    AnswerForm,
    DayForm,
    HallForm,
    MergeForm,
    MessageForm,
    ModerateForm,
    OutcomeForm,
    RegisterForm,
    StanceForm,
    StatusForm,
    TopicForm,
    TopicRatingForm,
)
from deliberation.models import (
    ConsultationDay,
    Hall,
    Message,
    MessageStatus,
    ModerationLog,
    Stance,
    Topic,
    TopicPhoto,
    TopicRating,
    TopicStatus,
)
from deliberation.registry import topic_panels


def _hall(request, pk: int) -> Hall:
    hall = get_object_or_404(Hall.objects.select_related("council"), pk=pk)
    if not request.user.has_perm("deliberation.view_hall", hall):
        raise PermissionDenied
    return hall


def _topic(request, pk: int) -> Topic:
    topic = get_object_or_404(
        Topic.objects.select_related("hall__council", "author", "merged_into"), pk=pk
    )
    if not request.user.has_perm("deliberation.view_topic", topic):
        raise PermissionDenied
    return topic


def hall_detail(request, pk: int):
    hall = _hall(request, pk)
    status = request.GET.get("status", "")
    topics = Topic.objects.filter(hall=hall).select_related("author").with_stance_counts()
    if status in TopicStatus.values:
        topics = topics.filter(status=status)
    else:
        status = ""
    page_obj = Paginator(topics.order_by("-created"), 20).get_page(request.GET.get("page", 1))
    days = list(ConsultationDay.objects.filter(hall=hall).order_by("-starts_at")[:5])
    ratings = TopicRating.objects.filter(topic__hall=hall).aggregate(
        average=Avg("score"), count=Count("pk")
    )
    return render(
        request,
        "deliberation/hall.html",
        {
            "hall": hall,
            "council": hall.council,
            "page_obj": page_obj,
            "status": status,
            "statuses": TopicStatus.choices,
            "days": days,
            "ratings": ratings,
            "now": timezone.now(),
            "can_raise": request.user.has_perm("deliberation.raise_topic", hall),
            "can_schedule": request.user.has_perm("deliberation.schedule_consultationday", hall),
        },
    )


@login_required
def raise_topic(request, pk: int):
    hall = _hall(request, pk)
    if not request.user.has_perm("deliberation.raise_topic", hall):
        raise PermissionDenied
    form = TopicForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            topic = services.raise_topic(
                author=request.user,
                hall=hall,
                title=data["title"],
                description=data["description"],
                category=data["category"],
                location=data["location"],
                photos=form.photos,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your topic is up. Residents can now discuss it."))
            return redirect(topic)
    return render(
        request,
        "deliberation/topic_form.html",
        {"hall": hall, "form": form},
        status=400 if form.errors else 200,
    )


def topic_photo(request, pk: int):
    """A topic's photo, for whoever may see the topic (a closed hall's: not the public)."""
    photo = get_object_or_404(TopicPhoto.objects.select_related("topic__hall__council"), pk=pk)
    if not request.user.has_perm("deliberation.view_topic", photo.topic):
        raise Http404
    return serve_file(photo.image)


def topic_detail(
    request, pk: int, *, message_form=None, stance_form=None, rating_form=None, status=200
):
    topic = _topic(request, pk)
    user = request.user
    before = request.GET.get("before")
    before = int(before) if before and before.isdigit() else None
    shown, has_older = selectors.latest_messages(topic.pk, before=before)
    can_moderate = user.has_perm("deliberation.moderate_message", topic)
    can_change = user.has_perm("deliberation.change_topic", topic)
    my_stance = (
        Stance.objects.filter(topic=topic, user=user).values_list("value", flat=True).first()
        if user.is_authenticated
        else None
    )
    held = (
        list(
            Message.objects.filter(topic=topic, status=MessageStatus.HELD)
            .select_related("author")
            .order_by("created")
        )
        if can_moderate
        else []
    )
    my_held = (
        list(Message.objects.filter(topic=topic, status=MessageStatus.HELD, author=user))
        if user.is_authenticated and not can_moderate
        else []
    )
    rating = TopicRating.objects.filter(topic=topic).first()
    context = {
        "topic": topic,
        "statuses": TopicStatus.choices,
        "rating": rating,
        "can_rate": rating is None and user.has_perm("deliberation.rate_topic", topic),
        "rating_form": rating_form or TopicRatingForm(prefix="rating"),
        "hall": topic.hall,
        "council": topic.hall.council,
        "chat": shown,
        "has_older": has_older,
        "oldest_seq": shown[0].seq if shown else None,
        "last_seq": topic.last_seq if before is None else None,
        "stances": selectors.stance_counts(topic.pk),
        "my_stance": my_stance,
        "photos": list(topic.photos.all()),
        "events": list(topic.events.select_related("actor", "other_topic")),
        "held": held,
        "my_held": my_held,
        "moderation_log": (
            list(
                ModerationLog.objects.filter(message__topic=topic)
                .select_related("actor", "message")
                .order_by("-created")[:20]
            )
            if can_moderate
            else []
        ),
        "can_post": user.has_perm("deliberation.post_message", topic),
        "can_stance": user.has_perm("deliberation.set_stance", topic),
        "can_moderate": can_moderate,
        "can_change": can_change,
        "message_form": message_form
        or MessageForm(initial={"client_id": MessageForm.new_client_id()}),
        "stance_form": stance_form or StanceForm(initial={"value": my_stance}),
        "status_form": StatusForm(prefix="status"),
        "answer_form": AnswerForm(prefix="answer"),
        "merge_form": MergeForm(prefix="merge"),
        "moderate_form": ModerateForm(prefix="mod"),
    }
    panels, context["panel_templates"] = topic_panels(topic, user)
    context.update(panels)
    return render(request, "deliberation/topic.html", context, status=status)


@login_required
@require_POST
def post_message(request, pk: int):
    topic = _topic(request, pk)
    if not request.user.has_perm("deliberation.post_message", topic):
        raise PermissionDenied
    form = MessageForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            posted = services.post_message(
                author=request.user,
                topic=topic,
                body=data["body"],
                reply_to=data["reply_to"],
                client_id=data["client_id"],
            )
        except (ValidationError, PermissionDenied) as error:
            form.add_error("body", error if isinstance(error, ValidationError) else str(error))
        else:
            if posted.held:
                messages.info(
                    request,
                    _(
                        "Your message contains words that need a check. "
                        "The committee will review it before it is shown."
                    ),
                )
            return redirect(f"{topic.get_absolute_url()}#message-{posted.message.seq or 'form'}")
    return topic_detail(request, pk, message_form=form, status=400)


@login_required
@require_POST
def set_stance(request, pk: int):
    topic = _topic(request, pk)
    if not request.user.has_perm("deliberation.set_stance", topic):
        raise PermissionDenied
    form = StanceForm(request.POST)
    if form.is_valid():
        try:
            services.set_stance(user=request.user, topic=topic, value=form.cleaned_data["value"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your stance was saved."))
            return redirect(f"{topic.get_absolute_url()}#stances")
    return topic_detail(request, pk, stance_form=form, status=400)


def _committee_post(request, pk: int, form_class, prefix: str, call, success: str, **form_kw):
    topic = _topic(request, pk)
    if not request.user.has_perm("deliberation.change_topic", topic):
        raise PermissionDenied
    form = form_class(request.POST, prefix=prefix, **form_kw)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(topic)
    try:
        call(topic, form.cleaned_data)
    except (ValidationError, PermissionDenied) as error:
        say_refusal(request, error)
    else:
        messages.success(request, success)
    return redirect(topic)


@login_required
@require_POST
def change_status(request, pk: int):
    return _committee_post(
        request,
        pk,
        StatusForm,
        "status",
        lambda topic, data: services.change_topic_status(
            actor=request.user, topic=topic, status=data["status"], reason=data["reason"]
        ),
        _("The topic's status was changed."),
    )


@login_required
@require_POST
def answer(request, pk: int):
    return _committee_post(
        request,
        pk,
        AnswerForm,
        "answer",
        lambda topic, data: services.answer_topic(
            actor=request.user, topic=topic, answer=data["answer"]
        ),
        _("The official answer was published."),
    )


@login_required
@require_POST
def merge(request, pk: int):
    return _committee_post(
        request,
        pk,
        MergeForm,
        "merge",
        lambda topic, data: services.merge_topics(
            actor=request.user, duplicate=topic, into=data["into"], reason=data["reason"]
        ),
        _("The topic was merged."),
    )


@login_required
@require_POST
def rate_topic(request, pk: int):
    """评事: the asker rates the committee's answer, once."""
    topic = _topic(request, pk)
    if not request.user.has_perm("deliberation.rate_topic", topic):
        raise PermissionDenied
    if TopicRating.objects.filter(topic=topic).exists():  # a second tab, or a resend
        messages.error(request, _("You have already rated this answer."))
        return redirect(f"{topic.get_absolute_url()}#rating")
    form = TopicRatingForm(request.POST, prefix="rating")
    if form.is_valid():
        try:
            services.rate_topic(
                user=request.user,
                topic=topic,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:  # already rated (a second tab)
            say_refusal(request, error)
        else:
            messages.success(request, _("Thank you for your rating."))
        return redirect(f"{topic.get_absolute_url()}#rating")
    return topic_detail(request, pk, rating_form=form, status=400)


@login_required
@require_POST
def moderate(request, message_id: int):
    message = get_object_or_404(
        Message.objects.select_related("topic__hall__council"), pk=message_id
    )
    topic = message.topic
    if not request.user.has_perm("deliberation.moderate_message", topic):
        raise PermissionDenied
    form = ModerateForm(request.POST, prefix="mod")
    if not form.is_valid():
        messages.error(request, _("Choose an action."))
        return redirect(topic)
    try:
        services.moderate_message(
            actor=request.user,
            message=message,
            action=form.cleaned_data["action"],
            reason=form.cleaned_data["reason"],
        )
    except (ValidationError, PermissionDenied) as error:
        say_refusal(request, error)
    else:
        messages.success(request, _("Done. The decision is in the moderation log."))
    return redirect(topic)


# --- Consultation days ---------------------------------------------------------------------


@login_required
def schedule_day(request, pk: int):
    hall = _hall(request, pk)
    if not request.user.has_perm("deliberation.schedule_consultationday", hall):
        raise PermissionDenied
    form = DayForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            day = services.schedule_consultation_day(
                actor=request.user, hall=hall, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The consultation day was scheduled."))
            return redirect(day)
    return render(
        request,
        "deliberation/day_form.html",
        {"hall": hall, "form": form},
        status=400 if form.errors else 200,
    )


def day_detail(request, pk: int, *, register_form=None, outcome_form=None, status=200):
    day = get_object_or_404(ConsultationDay.objects.select_related("hall__council"), pk=pk)
    if not request.user.has_perm("deliberation.view_hall", day.hall):
        raise PermissionDenied
    user = request.user
    can_manage = user.has_perm("deliberation.schedule_consultationday", day)
    return render(
        request,
        "deliberation/day.html",
        {
            "day": day,
            "hall": day.hall,
            "now": timezone.now(),
            "topics": list(day.topics.all()),
            "registered": user.is_authenticated and day.registrations.filter(user=user).exists(),
            "registration_count": day.registrations.count(),
            "registrations": (list(day.registrations.select_related("user")) if can_manage else []),
            "can_register": user.has_perm("deliberation.register_consultationday", day),
            "can_manage": can_manage,
            "register_form": register_form or RegisterForm(),
            "outcome_form": outcome_form or OutcomeForm(hall=day.hall),
        },
        status=status,
    )


@login_required
@require_POST
def register_for_day(request, pk: int):
    day = get_object_or_404(ConsultationDay.objects.select_related("hall__council"), pk=pk)
    if not request.user.has_perm("deliberation.register_consultationday", day):
        raise PermissionDenied
    # The page shows the form only before the day and to someone not yet registered: refuse the
    # other cases here, in words, rather than re-render a page where the error cannot be seen.
    if day.starts_at <= timezone.now():
        messages.error(request, _("This consultation day has already begun."))
        return redirect(day)
    if day.registrations.filter(user=request.user).exists():
        messages.info(request, _("You are already registered for this day."))
        return redirect(day)
    form = RegisterForm(request.POST)
    if form.is_valid():
        try:
            services.register_for_day(user=request.user, day=day, note=form.cleaned_data["note"])
        except ValidationError as error:  # the day began or a second tab registered meanwhile
            say_refusal(request, error)
        else:
            messages.success(request, _("You are registered. See you there."))
        return redirect(day)
    return day_detail(request, pk, register_form=form, status=400)


@login_required
@require_POST
def publish_outcome(request, pk: int):
    day = get_object_or_404(ConsultationDay.objects.select_related("hall__council"), pk=pk)
    if not request.user.has_perm("deliberation.schedule_consultationday", day):
        raise PermissionDenied
    # The outcome form is on the page only once the day has begun and until it is published.
    if day.starts_at > timezone.now():
        messages.error(request, _("The outcome can be published once the day has begun."))
        return redirect(day)
    if day.outcome_published_at is not None:
        messages.error(request, _("The outcome of this day was already published."))
        return redirect(day)
    form = OutcomeForm(request.POST, hall=day.hall)
    if form.is_valid():
        try:
            services.publish_day_outcome(
                actor=request.user,
                day=day,
                outcome=form.cleaned_data["outcome"],
                topics=form.cleaned_data["topics"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The outcome was published."))
            return redirect(day)
    return day_detail(request, pk, outcome_form=form, status=400)


# --- Opening a hall from the council's page (issue 14, point 5) -----------------------------------


@login_required
def new_hall(request, council_pk: int):
    from councils.models import SUB_COUNCIL_LEVELS, CouncilPage, Level

    council = get_object_or_404(CouncilPage.objects.live(), pk=council_pk)
    if not request.user.has_perm("deliberation.add_hall", council):
        raise PermissionDenied
    children = []
    can_add_council = False
    if council.level == Level.VILLAGE:
        children = list(
            CouncilPage.objects.child_of(council)
            .live()
            .filter(level__in=SUB_COUNCIL_LEVELS)
            .order_by("level", "title")
        )
        can_add_council = request.user.has_perm("councils.add_council", council)
    form = HallForm(
        request.POST if request.method == "POST" else None,
        council=council,
        children=children,
        can_add_council=can_add_council,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            hall = services.create_hall(
                by=request.user,
                council=data["child"] or council,
                title=data["title"],
                description=data["description"],
                is_public=data["is_public"],
                new_council_level=data["new_council_level"],
                new_council_title=data.get("new_council_title") or "",
            )
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The hall is open."))
            return redirect(hall)
    return render(
        request,
        "deliberation/hall_form.html",
        {"council": council, "form": form},
        status=400 if form.errors else 200,
    )
