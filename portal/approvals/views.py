from flask import Blueprint

blueprint = Blueprint("approvals", __name__, url_prefix="/approvals")
