from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
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
