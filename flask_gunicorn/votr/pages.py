"""Article 003's routes, and the home page that links everything."""

from flask import Blueprint, Response, jsonify, render_template, request

from .proxy import client_address

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    return render_template("home.html")


@bp.route("/other/", methods=["GET", "POST"])
def other():
    return Response(f"Other world ({request.method})\n", mimetype="text/plain")


@bp.get("/get_my_ip/")
def get_my_ip():
    # request.remote_addr alone would be Heroku's router: see proxy.py.
    return jsonify(ip=client_address())


@bp.get("/projects/")
def projects():
    # Every value of every key, not str(request.args), which is a Python repr.
    return jsonify(args=request.args.to_dict(flat=False))
