from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
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
