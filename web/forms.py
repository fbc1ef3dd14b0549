"""Flask-WTF forms for sign-in and the administrator's pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from web.labels import LANGUAGES, ROLES


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)])
    display_name = StringField(_l("Full name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=[SelectChoice(value, label)
                                            for value, label in ROLES.items()])
    language = SelectField(_l("Language"), choices=[SelectChoice(code, LANGUAGES[code])
                                                    for code in ("it", "en")])
    password = PasswordField(_l("Password"), render_kw={"autocomplete": "new-password"})


class ButtonForm(FlaskForm):
    """A form that is only a button (and its CSRF token)."""
