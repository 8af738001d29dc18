from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from surveyapp.i18n import lt


class LoginForm(FlaskForm):
    username = StringField(
        "username",
        validators=[
            DataRequired(lt("Nhập tên đăng nhập", "Enter your username")),
            Length(max=80),
        ],
    )
    password = PasswordField(
        "password",
        validators=[
            DataRequired(lt("Nhập mật khẩu", "Enter your password")),
            Length(max=1024),
        ],
    )


class UserForm(FlaskForm):
    username = StringField(
        "username",
        validators=[DataRequired(lt("Nhập tên đăng nhập", "Enter a username")), Length(max=80)],
    )
    full_name = StringField("full_name", validators=[Length(max=200)])
    role = SelectField("role")
    unit_code = SelectField("unit_code")
    password = PasswordField(
        "password",
        validators=[DataRequired(lt("Nhập mật khẩu", "Enter a password")), Length(max=1024)],
    )


class UserEditForm(FlaskForm):
    full_name = StringField("full_name", validators=[Length(max=200)])
    role = SelectField("role")
    unit_code = SelectField("unit_code")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "current_password",
        validators=[
            DataRequired(lt("Nhập mật khẩu hiện tại", "Enter your current password")),
            Length(max=1024),
        ],
    )
    new_password = PasswordField(
        "new_password",
        validators=[
            DataRequired(lt("Nhập mật khẩu mới", "Enter a new password")),
            Length(max=1024),
        ],
    )
    confirm_password = PasswordField(
        "confirm_password",
        validators=[
            DataRequired(lt("Nhập lại mật khẩu mới", "Repeat the new password")),
            Length(max=1024),
        ],
    )


class FocalPointsForm(FlaskForm):
    unit_codes = TextAreaField("unit_codes", validators=[Length(max=200_000)])
