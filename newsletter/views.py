"""Public newsletter pages: signup, confirmation, resend, preference centre and one-click unsubscribe.

Views are thin: they validate a form or a token and call ``newsletter.services``. Pages opened from an
emailed link (confirm, preferences, unsubscribe) are never cached, never indexed and send no Referer, so the
personal token in the URL does not leak.
"""

from __future__ import annotations

import json
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from newsletter.forms import (
    EraseForm,
    MemberSignupForm,
    PreferencesForm,
    ResendForm,
    ResubscribeForm,
    SignupForm,
)
from newsletter.models import Subscriber
from newsletter.services import engagement, privacy, ratelimit, subscriptions, tokens
from newsletter.services.headers import ONE_CLICK
from newsletter.services.subscriptions import ConfirmOutcome, RequestInfo
from portal.core.conf import conf as core_conf
from portal.core.i18n import use_subscriber_language

SIGNUP_ID = "signup-%s"  # field ids on the signup page match the template's id_prefix "signup"


def client_ip(request) -> str:
    """The client's IP: REMOTE_ADDR, or the entry added by the last trusted proxy in X-Forwarded-For."""
    proxies = int(core_conf.NEWSLETTER_TRUSTED_PROXY_COUNT)
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def request_info(request) -> RequestInfo:
    return RequestInfo(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""))


def private_link_page(view):
    """Headers for pages reached through a personal link: no caching, no indexing, no Referer to other sites.

    ``same-origin``, not ``no-referrer``: with ``no-referrer`` browsers send ``Origin: null`` on the page's own
    form posts, which Django's CSRF check refuses (the preference centre answered 403 in Chromium).
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def throttled_response(request, throttled: ratelimit.Throttled) -> HttpResponse:
    """A clear 429 page that says when to try again."""
    minutes = max(1, round(throttled.retry_after / 60))
    response = render(request, "newsletter/throttled.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(throttled.retry_after)
    return response


def _signup_context(request, form) -> dict:
    user = request.user
    member_email = user.email if user.is_authenticated and getattr(user, "email", "") else ""
    return {"form": form, "member_email": member_email}


@require_http_methods(["GET", "POST"])
def subscribe(request):
    """The signup page and the target of every signup form (footer, page blocks).

    The success page is the same whatever the address's state, so it reveals nothing about who is subscribed.
    A POST without the consent box (the footer sends only the address) shows the full form, address kept.
    """
    if request.method == "GET":
        initial = {"email": request.GET.get("email", "")[:254], "source": Subscriber.Source.SIGNUP_PAGE}
        form = SignupForm(initial=initial, auto_id=SIGNUP_ID)
        return render(request, "newsletter/subscribe.html", _signup_context(request, form))
    return _signup_posted(request)


def _signup_posted(request) -> HttpResponse:
    form = SignupForm(request.POST, auto_id=SIGNUP_ID)
    if form.is_bot():
        return render(request, "newsletter/subscribe.html", {**_signup_context(request, SignupForm(auto_id=SIGNUP_ID)),
                                                             "honeypot_tripped": True}, status=400)
    throttled = _signup_throttle(request)
    if throttled:
        return throttled_response(request, throttled)
    if not form.is_valid():
        return _signup_form_again(request, form)
    data = form.cleaned_data
    subscriptions.request_subscription(
        data["email"], topics=data["topics"], language=data["language"], source=data["source"],
        info=request_info(request),
    )
    return render(request, "newsletter/check_inbox.html", {"email": data["email"]})


def _signup_throttle(request) -> ratelimit.Throttled | None:
    """Signups and resent links count against the client's IP and the posted address."""
    return ratelimit.check_signup(client_ip(request), request.POST.get("email", "")[:254] or None)


def _signup_form_again(request, form) -> HttpResponse:
    """The signup page with the posted form's errors."""
    context = _signup_context(request, form)
    # The footer form posts only an address: explain the next step instead of only flagging errors.
    context["from_short_form"] = "consent" not in request.POST and "source" not in request.POST
    if context["from_short_form"]:
        data = request.POST.copy()
        data["source"] = Subscriber.Source.FOOTER
        context["form"] = form = SignupForm(data, auto_id=SIGNUP_ID)
        form.is_valid()
    return render(request, "newsletter/subscribe.html", context)


@login_required
@require_POST
def subscribe_member(request):
    """One click for a logged-in member: subscribe the account's verified address, confirmed at once."""
    form = MemberSignupForm(request.POST)
    topics = form.cleaned_data["topics"] if form.is_valid() else []
    if not request.user.email:
        context = _signup_context(request, SignupForm(auto_id=SIGNUP_ID))
        return render(request, "newsletter/subscribe.html", context, status=400)
    subscriber = subscriptions.subscribe_member(request.user, topics=topics, info=request_info(request))
    return render(request, "newsletter/member_subscribed.html", {
        "subscriber": subscriber, "preferences_url": tokens.preferences_url(subscriber),
    })


def _link_refused(request, error: tokens.TokenError, *, offer_resend: bool = False) -> HttpResponse:
    return render(request, "newsletter/link_invalid.html", {
        "reason": error.reason, "offer_resend": offer_resend, "resend_form": ResendForm(),
    }, status=400)


@csrf_exempt  # the signed token is the proof; a cross-site POST can do only what the link's holder could do.
@private_link_page
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token: str):
    """Confirm a subscription from the emailed link: GET shows a button, only the POST confirms.

    Mail scanners fetch every link in a message (GET, sometimes HEAD), so opening the link must not subscribe
    anyone. Repeating the POST is harmless; old or changed links are refused.
    """
    try:
        subscriber = tokens.read_token(token, tokens.CONFIRM, max_age=tokens.confirm_max_age())
    except tokens.TokenError as error:
        return _link_refused(request, error, offer_resend=True)
    use_subscriber_language(request, subscriber)
    if request.method != "POST" and subscriber.status == Subscriber.Status.PENDING:
        return render(request, "newsletter/confirm_ask.html", {"subscriber": subscriber, "token": token})
    outcome = _confirm_outcome(request, subscriber)
    if outcome == ConfirmOutcome.NOT_PENDING:
        return render(request, "newsletter/link_invalid.html", {
            "reason": "used", "offer_resend": False, "preferences_url": tokens.preferences_url(subscriber),
        }, status=400)
    return render(request, "newsletter/confirmed.html", {
        "subscriber": subscriber, "already": outcome == ConfirmOutcome.ALREADY_CONFIRMED,
        "preferences_url": tokens.preferences_url(subscriber),
    })


def _confirm_outcome(request, subscriber) -> ConfirmOutcome:
    """The POST confirms; opening the link (GET, HEAD) only tells whether the address is confirmed already."""
    if request.method == "POST":
        return subscriptions.confirm_subscription(subscriber, info=request_info(request))
    if subscriber.status == Subscriber.Status.SUBSCRIBED:
        return ConfirmOutcome.ALREADY_CONFIRMED
    return ConfirmOutcome.NOT_PENDING


@require_http_methods(["GET", "POST"])
def resend(request):
    """Ask for a new confirmation link. Sends only to a pending address; answers the same in every case."""
    if request.method == "GET":
        return render(request, "newsletter/resend.html", {"form": ResendForm()})
    form = ResendForm(request.POST)
    throttled = _signup_throttle(request)
    if throttled:
        return throttled_response(request, throttled)
    if not form.is_valid():
        return render(request, "newsletter/resend.html", {"form": form})
    subscriptions.resend_confirmation(form.cleaned_data["email"])
    return render(request, "newsletter/check_inbox.html", {"email": form.cleaned_data["email"], "resent": True})


def _subscriber_from(request, token: str, purpose: str):
    """The subscriber a link names (the page then speaks their chosen language), or the refusal page."""
    try:
        subscriber = tokens.read_token(token, purpose)
    except tokens.TokenError as error:
        return None, _link_refused(request, error)
    use_subscriber_language(request, subscriber)
    return subscriber, None


def _data_subscriber_from(request, token: str, purpose: str):
    """The subscriber an emailed export or erase link names, if it is less than an hour old."""
    try:
        subscriber = tokens.read_token(token, purpose, max_age=tokens.data_link_max_age())
    except tokens.TokenError as error:
        return None, _link_refused(request, error)
    use_subscriber_language(request, subscriber)
    return subscriber, None


def link_subscriber(purpose: str, *, data_link: bool = False):
    """For a view reached through an emailed link: the subscriber the link names is passed to the view after the
    request (the page then speaks the subscriber's language); an invalid, changed or expired link is answered with
    the refusal page instead. Data links (export, erase, click history) are valid for an hour."""
    reader = _data_subscriber_from if data_link else _subscriber_from

    def decorator(view):
        @wraps(view)
        def wrapper(request, token: str):
            subscriber, refused = reader(request, token, purpose)
            if refused:
                return refused
            return view(request, subscriber, token)

        return wrapper

    return decorator


def _preferences_context(subscriber, token: str, **extra) -> dict:
    return {
        "subscriber": subscriber, "token": token,
        "form": extra.pop("form", None) or PreferencesForm(initial={
            "topics": list(subscriber.topics.all()), "frequency": subscriber.frequency,
            "language": subscriber.language, "click_history": subscriber.click_history,
        }),
        "resubscribe_form": extra.pop("resubscribe_form", None) or ResubscribeForm(),
        "erase_form": EraseForm(),
        **extra,
    }


@private_link_page
@require_http_methods(["GET", "POST"])
@link_subscriber(tokens.PREFERENCES)
def preferences(request, subscriber, token: str):
    """The preference centre: topics, frequency, language, unsubscribe, download or erase my data."""
    if request.method == "POST":
        return _preferences_posted(request, subscriber, token)
    return render(request, "newsletter/preferences.html", _preferences_context(subscriber, token))


def _preferences_posted(request, subscriber, token: str) -> HttpResponse:
    form = PreferencesForm(request.POST)
    if not form.is_valid():
        return render(request, "newsletter/preferences.html", _preferences_context(subscriber, token, form=form))
    choices = dict(form.cleaned_data)
    wants_history = choices.pop("click_history")
    # Off at once; on only through a link emailed to the address (consent of the address's owner).
    subscriptions.update_preferences(subscriber, **choices, click_history=False if not wants_history else None,
                                     info=request_info(request))
    asked = wants_history and not subscriber.click_history
    if asked:
        throttled = privacy.request_link(subscriber, tokens.CLICKS)
        if throttled:
            return throttled_response(request, throttled)
    return render(request, "newsletter/preferences.html",
                  _preferences_context(subscriber, token, saved=True, history_link_sent=asked))


@private_link_page
@require_POST
@link_subscriber(tokens.PREFERENCES)
def preferences_unsubscribe(request, subscriber, token: str):
    """Unsubscribe from everything, from the preference centre."""
    subscriptions.unsubscribe(subscriber, form="preferences", info=request_info(request))
    return render(request, "newsletter/unsubscribed.html", {
        "subscriber": subscriber, "preferences_url": tokens.preferences_url(subscriber),  # the same purpose
    })


@private_link_page
@require_POST
@link_subscriber(tokens.PREFERENCES)
def preferences_resubscribe(request, subscriber, token: str):
    """Subscribe again: with fresh consent, confirmed through a new email, as a signup is.

    The preferences link is in every newsletter, so whoever sees a forwarded one could otherwise put back on the
    list someone who left. The request makes the address pending (which also replaces every earlier link).
    """
    form = ResubscribeForm(request.POST)
    if not form.is_valid():
        return render(request, "newsletter/preferences.html",
                      _preferences_context(subscriber, token, resubscribe_form=form), status=400)
    if subscriber.status in subscriptions.OPTED_OUT:
        subscriptions.request_subscription(
            subscriber.email, topics=list(subscriber.topics.all()), language=subscriber.language,
            frequency=subscriber.frequency, source=Subscriber.Source.PREFERENCES, info=request_info(request),
        )
    return render(request, "newsletter/check_inbox.html", {"email": subscriber.email})


def _link_sent(request, subscriber, purpose: str) -> HttpResponse:
    """Email a fresh link of ``purpose`` to the subscriber and say so (or say when to try again)."""
    throttled = privacy.request_link(subscriber, purpose)
    if throttled:
        return throttled_response(request, throttled)
    return render(request, "newsletter/link_sent.html", {"subscriber": subscriber, "purpose": purpose,
                                                         "valid_minutes": tokens.data_link_max_age() // 60})


@private_link_page
@require_POST
@link_subscriber(tokens.PREFERENCES)
def preferences_export(request, subscriber, token: str):
    """Download my data, first step: email a one-hour export link to the address (the preferences link is
    in every newsletter, so whoever sees a forwarded one must not get the subscriber's record)."""
    return _link_sent(request, subscriber, tokens.EXPORT)


@private_link_page
@require_POST
@link_subscriber(tokens.PREFERENCES)
def preferences_erase(request, subscriber, token: str):
    """Erase my data, first step: email a one-hour erase link to the address."""
    return _link_sent(request, subscriber, tokens.ERASE)


@private_link_page
@require_http_methods(["GET", "POST"])
@link_subscriber(tokens.EXPORT, data_link=True)
def data_export(request, subscriber, token: str):
    """The emailed export link: a button (link scanners prefetch GETs), then everything held as JSON, logged."""
    if request.method == "GET":
        return render(request, "newsletter/data_export.html", {"subscriber": subscriber, "token": token})
    privacy.record_self_export(subscriber)
    return json_download(privacy.export_subscriber_data(subscriber))


def json_download(data: dict) -> HttpResponse:
    """A JSON attachment (shared with the admin's staff export)."""
    response = HttpResponse(json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="newsletter-data.json"'
    return response


@private_link_page
@require_http_methods(["GET", "POST"])
@link_subscriber(tokens.CLICKS, data_link=True)
def click_history(request, subscriber, token: str):
    """The emailed link that turns the click history on: a button (link scanners prefetch GETs), then on."""
    if request.method == "POST":
        subscriptions.set_click_history(subscriber, True, form="emailed_link", info=request_info(request))
    return render(request, "newsletter/click_history.html", {"subscriber": subscriber, "token": token,
                                                             "done": request.method == "POST"})


@private_link_page
@require_http_methods(["GET", "POST"])
@link_subscriber(tokens.ERASE, data_link=True)
def data_erase(request, subscriber, token: str):
    """The emailed erase link: a confirmation step, then only a hash of the address is kept (logged)."""
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        privacy.erase_subscriber(subscriber, via="emailed link")
        return render(request, "newsletter/erased.html")
    return render(request, "newsletter/erase.html", {"subscriber": subscriber, "token": token, "form": form},
                  status=400 if request.method == "POST" else 200)


@csrf_exempt  # RFC 8058: mail providers POST here without cookies or a CSRF token; the signed token is the proof.
@private_link_page
@require_http_methods(["GET", "POST"])
@link_subscriber(tokens.UNSUBSCRIBE)
def unsubscribe(request, subscriber, token: str):
    """One-click unsubscribe (RFC 8058).

    POST (``List-Unsubscribe=One-Click`` from a mail provider, or the button on the GET page) unsubscribes at
    once and answers 200, never a redirect. GET only shows a page with a button: link scanners prefetch GETs.
    """
    if request.method == "GET":
        return render(request, "newsletter/unsubscribe_confirm.html", {"subscriber": subscriber, "token": token,
                                                                       "one_click": ONE_CLICK})
    subscriptions.unsubscribe(subscriber, form="one_click", info=request_info(request))
    # The answer carries no other token: the preference centre is reached through a link emailed on request.
    return render(request, "newsletter/unsubscribed.html", {"subscriber": subscriber, "token": token})


@private_link_page
@require_POST
@link_subscriber(tokens.UNSUBSCRIBE)
def unsubscribe_preferences_link(request, subscriber, token: str):
    """From an unsubscribe page: email the preferences link to the address rather than show it."""
    return _link_sent(request, subscriber, tokens.PREFERENCES)


@require_http_methods(["GET", "HEAD"])
def click(request, token: str, stamp: str = ""):
    """A link in a sent issue: count the click (not a scanner's fetch), then redirect to the signed target only.

    A changed or forged link is answered with a 400 page, never followed. Nothing about the request is kept.
    """
    try:
        click = engagement.read(token, stamp or None)
    except engagement.BadLink:
        return render(request, "newsletter/link_invalid.html", {"reason": "invalid", "offer_resend": False},
                      status=400)
    engagement.record(click, method=request.method, user_agent=request.META.get("HTTP_USER_AGENT", ""))
    response = HttpResponseRedirect(click.url)
    add_never_cache_headers(response)  # every click reaches us, and no cache keeps a personal stamp
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
