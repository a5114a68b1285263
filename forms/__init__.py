"""One FlaskForm per setup step; the pre-save checks are their validators."""
