"""Italian first, English too: the user's language, else the picker's, else the browser's."""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import Babel, gettext
from flask_login import current_user

from telecare.errors import FieldError
from web import labels

babel = Babel()


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["field_error"] = translate_error
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.globals["labels"] = labels
    app.jinja_env.globals["field_label"] = labels.field_label
    app.jinja_env.globals["languages_named"] = labels.languages_named


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.row.language in languages:
        return current_user.row.language
    if session.get("language") in languages:
        return session["language"]
    return request.accept_languages.best_match(languages, default=languages[0])


def current_language() -> str:
    return select_locale()


def translate_error(error: FieldError) -> str:
    """The core's English template in the reader's language, then filled in."""
    return gettext(error.template, **error.params) if error.params else gettext(error.template)
